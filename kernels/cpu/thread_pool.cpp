#include "kernels/cpu/thread_pool.h"

#include <algorithm>

namespace y26::kernels::cpu {

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes chunks from the shared counter until none is left. A worker counts itself active while here,
// so the job's caller does not return (and start another job, resetting the counter) under its feet.
void ThreadPool::run_chunks(const ChunkFn& fn, std::int64_t count, std::int64_t chunk, unsigned worker) {
  while (true) {
    const std::int64_t begin = next_.fetch_add(chunk, std::memory_order_relaxed);
    if (begin >= count) return;
    const std::int64_t end = std::min(count, begin + chunk);
    fn(begin, end, worker);
    finished_.fetch_add(end - begin, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop(unsigned worker) {
  std::uint64_t seen = 0;
  while (true) {
    const ChunkFn* job;
    std::int64_t count, chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && job_ != nullptr); });
      if (stop_) return;
      seen = generation_;
      job = job_;
      count = count_;
      chunk = chunk_;
      ++active_;
    }
    run_chunks(*job, count, chunk, worker);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
    }
    done_.notify_all();
  }
}

void ThreadPool::run(std::int64_t count, ChunkFn fn) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    fn(0, count, 0);
    return;
  }
  // Several chunks per thread balance uneven rows.
  const std::int64_t chunk = std::max<std::int64_t>(1, count / (static_cast<std::int64_t>(size()) * 4));
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    count_ = count;
    chunk_ = chunk;
    next_.store(0, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    ++generation_;
  }
  wake_.notify_all();
  run_chunks(fn, count, chunk, 0);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return active_ == 0 && finished_.load(std::memory_order_acquire) == count; });
  job_ = nullptr;
}

}  // namespace y26::kernels::cpu
