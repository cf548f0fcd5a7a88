#pragma once
// What a job on the model thread hands to the HTTP thread that answers its client: server-sent
// events as they happen (tokens, progress), then one final answer. Thread-safe; the HTTP side
// waits with a timeout so that it can check its client is still there meanwhile.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace blocklens::net {

class EventChannel {
public:
    void push(std::string event);
    // The last call: the HTTP status and body (for a stream, the final events).
    void finish(int status, std::string body);

    struct Batch {
        std::vector<std::string> events;
        bool finished = false;
        int status = 0;
        std::string body;
    };
    // Whatever came since the last call, waiting up to `timeout` when nothing has.
    Batch take(std::chrono::milliseconds timeout);

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> events_;
    bool finished_ = false;
    int status_ = 0;
    std::string body_;
};

} // namespace blocklens::net
