// A small fixed thread pool for the CPU kernels: parallel_for over an index range, the
// caller's thread taking a share. Deterministic results: every index is computed by
// exactly one thread with no cross-thread reductions. Chunks are handed out by an atomic
// counter (no lock per chunk); the callable is borrowed, never copied, so a call
// allocates nothing (the fast kernels promise no allocation inside a run). Between jobs a
// worker spins a short while before it sleeps: an inference is ~100 jobs microseconds
// apart, and waking a sleeping thread through the kernel for each cost ~8% of a run.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace y26::kernels::cpu {

// A non-owning reference to a callable: fn(begin, end, worker), worker in [0, size()).
class ChunkFn {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, ChunkFn>>>
  ChunkFn(F& f)  // NOLINT: implicit, as a function parameter
      : obj_(const_cast<void*>(static_cast<const void*>(&f))), call_(&call<F>) {}
  void operator()(std::int64_t b, std::int64_t e, unsigned worker) const { call_(obj_, b, e, worker); }

 private:
  template <typename F>
  static void call(void* obj, std::int64_t b, std::int64_t e, unsigned worker) {
    if constexpr (std::is_invocable_v<F&, std::int64_t, std::int64_t, unsigned>) {
      (*static_cast<F*>(obj))(b, e, worker);
    } else {
      (*static_cast<F*>(obj))(b, e);
    }
  }
  void* obj_;
  void (*call_)(void*, std::int64_t, std::int64_t, unsigned);
};

class ThreadPool {
 public:
  // threads == 0: one per hardware thread.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // Calls fn(begin, end) or fn(begin, end, worker) on disjoint chunks covering [0, count); returns when
  // all are done. worker: 0 for the calling thread, 1.. for the pool's threads (per-thread scratch).
  template <typename F>
  void parallel_for(std::int64_t count, F&& fn) {
    run(count, ChunkFn(fn));
  }

 private:
  void run(std::int64_t count, ChunkFn fn);
  void worker_loop(unsigned worker);
  void run_chunks(const ChunkFn& fn, std::int64_t count, std::int64_t chunk, unsigned worker);
  // Waits (spinning, then asleep) for a job newer than `seen`; false when the pool stops.
  bool join_next(std::uint64_t& seen);

  // state_: the job's generation << kGenShift | open bit | workers inside it. A worker joins only an
  // open job, by one CAS that also counts it; the caller closes the job when all chunks are done and
  // waits until no worker is inside before it writes the next job's fields.
  static constexpr std::uint64_t kOpen = 1ull << 31, kGenShift = 32, kActive = kOpen - 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;  // for sleeping only: the job is published and joined through the atomics
  std::condition_variable wake_, done_;
  const ChunkFn* job_ = nullptr;
  std::int64_t count_ = 0, chunk_ = 1;
  std::atomic<std::uint64_t> state_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> caller_sleeping_{0};
  std::atomic<std::int64_t> next_{0}, finished_{0};
};

}  // namespace y26::kernels::cpu
