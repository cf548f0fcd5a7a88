#pragma once
// The server's one model worker (issue 22): requests that run the model are jobs run one at a time,
// in arrival order, on one thread that owns nothing but the order (the model, runner and block
// cache are shared, immutable or thread-safe). At most `maxWaiting` jobs wait behind the running
// one, so one client cannot queue up work that starves the others: past that a submission is
// refused at once (the server answers 429) instead of waiting without bound.
//
// A job carries its own std::stop_source: the HTTP side requests a stop when its client goes away;
// a job stopped before it starts is dropped without running, a running one stops at the engine's
// next check (between blocks and generated tokens).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace blocklens::net {

class JobQueue {
public:
    explicit JobQueue(std::size_t maxWaiting);
    ~JobQueue(); // close(), then waits for the running job
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    enum class Admission { Accepted, Full, Closed };
    // `work` runs on the worker thread with the job's stop token; `dropped` runs there instead when
    // the job is stopped (or the queue closed) before it starts. Neither may throw.
    Admission submit(std::function<void(std::stop_token)> work, std::function<void()> dropped, std::stop_source stop);

    // Refuses new jobs and drops the waiting ones; the running one is asked to stop.
    void close();

    struct Stats {
        std::int64_t completed = 0; // ran to the end
        std::int64_t cancelled = 0; // stopped while running, or dropped before they started
        std::int64_t rejected = 0;  // refused because the queue was full
        std::size_t waiting = 0;
        bool running = false;
        std::size_t maxWaiting = 0;
    };
    Stats stats() const;

private:
    struct Job {
        std::function<void(std::stop_token)> work;
        std::function<void()> dropped;
        std::stop_source stop;
    };
    void loop();

    const std::size_t maxWaiting_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> waiting_;
    std::stop_source running_; // the running job's, for close()
    bool closed_ = false;
    Stats stats_;
    std::thread thread_; // last: started once the rest is ready
};

} // namespace blocklens::net
