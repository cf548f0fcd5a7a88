#include "util/signals.hpp"

#include <atomic>
#include <csignal>

#include <signal.h>

namespace blocklens {
namespace {

std::atomic<bool> gInterrupted{false};
struct sigaction gPrevious {};

void onInterrupt(int)
{
    if (gInterrupted.exchange(true)) {
        // Second Ctrl+C: the work did not stop in time; end the process the default way.
        ::signal(SIGINT, SIG_DFL);
        ::raise(SIGINT);
    }
}

} // namespace

void ignoreFileSizeLimitSignal() { std::signal(SIGXFSZ, SIG_IGN); }

InterruptScope::InterruptScope()
{
    static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");
    gInterrupted = false;
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &gPrevious);
}

InterruptScope::~InterruptScope()
{
    ::sigaction(SIGINT, &gPrevious, nullptr);
    gInterrupted = false;
}

bool interruptRequested() noexcept { return gInterrupted.load(); }

} // namespace blocklens
