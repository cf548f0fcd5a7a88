#include "net/event_channel.hpp"

namespace blocklens::net {

void EventChannel::push(std::string event)
{
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(event));
    }
    changed_.notify_all();
}

void EventChannel::finish(int status, std::string body)
{
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
        status_ = status;
        body_ = std::move(body);
    }
    changed_.notify_all();
}

EventChannel::Batch EventChannel::take(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return finished_ || !events_.empty(); });
    Batch b;
    b.events.assign(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
    events_.clear();
    if (finished_) {
        b.finished = true;
        b.status = status_;
        b.body = std::move(body_);
    }
    return b;
}

} // namespace blocklens::net
