#include "kernels/cpu/thread_pool.h"

#include <algorithm>

namespace y26::kernels::cpu {

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes the next chunk of the current job, runs it, and reports whether it found one.
bool ThreadPool::run_one_chunk() {
  std::int64_t begin, end;
  const std::function<void(std::int64_t, std::int64_t)>* job;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (job_ == nullptr || next_ >= count_) return false;
    begin = next_;
    end = std::min(count_, begin + chunk_);
    next_ = end;
    job = job_;
  }
  (*job)(begin, end);
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ += end - begin;
    if (finished_ == count_) done_.notify_all();
  }
  return true;
}

void ThreadPool::worker_loop() {
  std::uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && job_ != nullptr); });
      if (stop_) return;
      seen = generation_;
    }
    while (run_one_chunk()) {
    }
  }
}

void ThreadPool::parallel_for(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    fn(0, count);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    count_ = count;
    next_ = 0;
    finished_ = 0;
    // Several chunks per thread balance uneven rows without much locking.
    chunk_ = std::max<std::int64_t>(1, count / (static_cast<std::int64_t>(size()) * 4));
    ++generation_;
  }
  wake_.notify_all();
  while (run_one_chunk()) {
  }
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return finished_ == count_; });
  job_ = nullptr;
}

}  // namespace y26::kernels::cpu
