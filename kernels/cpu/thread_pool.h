// A small fixed thread pool for the CPU reference kernels: parallel_for over an
// index range, the caller's thread taking a share. Deterministic results: every
// index is computed by exactly one thread with no cross-thread reductions.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace y26::kernels::cpu {

class ThreadPool {
 public:
  // threads == 0: one per hardware thread.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // Calls fn(begin, end) on disjoint chunks covering [0, count); returns when all are done.
  void parallel_for(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn);

 private:
  void worker_loop();
  bool run_one_chunk();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(std::int64_t, std::int64_t)>* job_ = nullptr;
  std::int64_t count_ = 0, next_ = 0, chunk_ = 1, finished_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace y26::kernels::cpu
