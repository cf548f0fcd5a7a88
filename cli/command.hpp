#pragma once
// One blocklens-cli subcommand: its argument spec and what it does. Each lives in its own
// cmd_<name>.cpp and is listed once in commands.cpp.
#include "cli/args.hpp"

#include <functional>
#include <iosfwd>
#include <span>
#include <string>

namespace blocklens::cli {

struct Io {
    std::ostream& out; // results (text or --json)
    std::ostream& err; // progress and errors
};

struct Command {
    std::string name;
    ArgSpec spec;
    // Returns the exit code; throws blocklens::Error or UsageError for bad input.
    std::function<int(const ArgSpec::Parsed&, Io&)> run;
};

std::span<const Command> allCommands();

// Declarations of the commands (one file each).
Command infoCommand();
Command tokenizeCommand();
Command segmentCommand();    // cmd_segment.cpp (core/segment)
Command evalCommand();       // cmd_eval.cpp
Command segmentersCommand(); // cmd_segmenters.cpp
Command dbCommand();     // cmd_db.cpp (experiment store)
Command importCommand(); // cmd_import.cpp
Command runsCommand();   // cmd_runs.cpp
Command agreementCommand(); // cmd_agreement.cpp (core/analysis/annotator_agreement)
Command assignCommand();    // cmd_assign.cpp (core/campaign/assignment)
Command trainTokenizerCommand(); // cmd_train_tokenizer.cpp (core/tokenizer/bpe_trainer)
Command encodeCorpusCommand();   // cmd_encode_corpus.cpp (core/learn/lm/corpus)
// The engine's commands, built with libtorch (BLOCKLENS_WITH_TORCH; core/engine).
Command logitsCommand();    // cmd_logits.cpp
Command compareCommand();   // cmd_compare.cpp
Command makeModelCommand(); // cmd_make_model.cpp
Command cutMarkersCommand(); // cmd_cut_markers.cpp (engine/cut_marker_scorer)
Command trainSegmenterCommand(); // cmd_train_segmenter.cpp (core/learn)
Command benchTtftCommand(); // cmd_bench_ttft.cpp
Command trainLmCommand();   // cmd_train_lm.cpp (core/learn/lm, demo model)
Command lmEvalCommand();    // cmd_lm_eval.cpp
Command serveCommand();     // cmd_serve.cpp (net/server: the model behind HTTP, issue 22), with BLOCKLENS_WITH_NET
// What --server says in a build configured with -DBLOCKLENS_WITH_NET=OFF.
inline constexpr const char* kNoHttpInThisBuild =
    "--server needs the HTTP client, and this build has none (configured with -DBLOCKLENS_WITH_NET=OFF)";
Command trainBlockCommand(); // cmd_train_block.cpp (usecases/block_distillation)
Command evalBlockCommand();  // cmd_eval_block.cpp

} // namespace blocklens::cli
