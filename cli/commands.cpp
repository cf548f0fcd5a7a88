#include "cli/command.hpp"

#include <vector>

namespace blocklens::cli {

std::span<const Command> allCommands()
{
    // Listed explicitly (not self-registered) so nothing is dropped by the static linker.
    static const std::vector<Command> commands = {
        infoCommand(),
        tokenizeCommand(),
        segmentCommand(),
        evalCommand(),
        segmentersCommand(),
        dbCommand(),
        importCommand(),
        runsCommand(),
        agreementCommand(),
        assignCommand(),
        trainTokenizerCommand(),
        encodeCorpusCommand(),
#ifdef BLOCKLENS_WITH_TORCH
        logitsCommand(),
        compareCommand(),
        makeModelCommand(),
        cutMarkersCommand(),
        trainSegmenterCommand(),
        benchTtftCommand(),
        trainLmCommand(),
        lmEvalCommand(),
#if BLOCKLENS_HAVE_NET
        serveCommand(),
#endif
        trainBlockCommand(),
        evalBlockCommand(),
#endif
    };
    return commands;
}

} // namespace blocklens::cli
