#include "net/job_queue.hpp"

namespace blocklens::net {

JobQueue::JobQueue(std::size_t maxWaiting) : maxWaiting_(maxWaiting), thread_([this] { loop(); })
{
    stats_.maxWaiting = maxWaiting;
}

JobQueue::~JobQueue()
{
    close();
    thread_.join();
}

JobQueue::Admission JobQueue::submit(std::function<void(std::stop_token)> work, std::function<void()> dropped, std::stop_source stop)
{
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return Admission::Closed;
        if (waiting_.size() >= maxWaiting_ + (stats_.running ? 0 : 1)) {
            ++stats_.rejected;
            return Admission::Full;
        }
        waiting_.push_back({std::move(work), std::move(dropped), std::move(stop)});
        stats_.waiting = waiting_.size();
    }
    wake_.notify_one();
    return Admission::Accepted;
}

void JobQueue::close()
{
    std::deque<Job> drop;
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return;
        closed_ = true;
        drop.swap(waiting_);
        stats_.waiting = 0;
        stats_.cancelled += static_cast<std::int64_t>(drop.size());
        running_.request_stop();
    }
    wake_.notify_all();
    for (Job& job : drop) {
        job.stop.request_stop();
        job.dropped();
    }
}

JobQueue::Stats JobQueue::stats() const
{
    std::lock_guard lock(mutex_);
    return stats_;
}

void JobQueue::loop()
{
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return closed_ || !waiting_.empty(); });
            if (waiting_.empty())
                return; // closed
            job = std::move(waiting_.front());
            waiting_.pop_front();
            stats_.waiting = waiting_.size();
            if (job.stop.stop_requested()) {
                ++stats_.cancelled;
                lock.unlock();
                job.dropped();
                continue;
            }
            stats_.running = true;
            running_ = job.stop;
        }
        job.work(job.stop.get_token());
        std::lock_guard lock(mutex_);
        stats_.running = false;
        running_ = std::stop_source(std::nostopstate);
        ++(job.stop.stop_requested() ? stats_.cancelled : stats_.completed);
    }
}

} // namespace blocklens::net
