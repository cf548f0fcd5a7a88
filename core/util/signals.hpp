#pragma once
// Process signals the front ends (blocklens-cli, blocklens) set up, kept in core so both do the
// same.
namespace blocklens {

// A write past the file size limit (ulimit -f, RLIMIT_FSIZE) raises SIGXFSZ, which kills the
// process by default (exit 153) before any error can be reported. Ignored, the write fails with
// EFBIG instead, and the store reports it like a full disk: the change is rolled back and the
// user reads why. Call once at start-up.
void ignoreFileSizeLimitSignal();

// While one is alive, Ctrl+C (SIGINT) sets a flag instead of ending the process, so long work
// that polls interruptRequested() (a SQL query, for one) stops cleanly and reports it; a second
// Ctrl+C while the flag is still set ends the process as usual. The previous handler comes back
// when the scope ends. Not nested, not for threads other than the main one.
class InterruptScope {
public:
    InterruptScope();
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;
};

bool interruptRequested() noexcept;

} // namespace blocklens
