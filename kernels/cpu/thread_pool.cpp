#include "kernels/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace y26::kernels::cpu {
namespace {

// How long an idle thread polls before it sleeps: longer than the gap between two jobs of an
// inference, far shorter than the gap between two images of a video or a server's requests.
constexpr auto kSpin = std::chrono::microseconds(300);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Threads of all pools in the process (their workers and callers). Spinning pays only while each has a
// core: with more (several engines, each with its pool, as `y26 bench --engines N`), a spinning thread
// takes the core from one with work, so the pools then sleep at once (measured: 2 engines x 2 threads on
// 2 cores lost 8% of their throughput to spinning).
std::atomic<unsigned> g_pool_threads{0};
const unsigned g_cores = std::max(1u, std::thread::hardware_concurrency());

// Polls `ready` for kSpin (not at all when the pools outnumber the cores); true as soon as it holds.
template <typename F>
bool spin_until(F&& ready) {
  if (g_pool_threads.load(std::memory_order_relaxed) > g_cores) return ready();
  const auto until = std::chrono::steady_clock::now() + kSpin;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return false;
  }
}

}  // namespace

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  g_pool_threads.fetch_add(threads, std::memory_order_relaxed);
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  g_pool_threads.fetch_sub(size(), std::memory_order_relaxed);
}

// Takes chunks from the shared counter until none is left.
void ThreadPool::run_chunks(const ChunkFn& fn, std::int64_t count, std::int64_t chunk, unsigned worker) {
  while (true) {
    const std::int64_t begin = next_.fetch_add(chunk, std::memory_order_relaxed);
    if (begin >= count) return;
    const std::int64_t end = std::min(count, begin + chunk);
    fn(begin, end, worker);
    // seq_cst with the caller's store of caller_sleeping_ and its load of finished_: of the two,
    // one sees the other (store-load ordering; acquire/release alone would let both miss).
    if (finished_.fetch_add(end - begin) + (end - begin) == count && caller_sleeping_.load() != 0) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller checks under mu_ before it sleeps
      done_.notify_all();
    }
  }
}

bool ThreadPool::join_next(std::uint64_t& seen) {
  const auto try_join = [&] {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    while ((s >> kGenShift) != seen) {
      if (!(s & kOpen)) {  // a job that ended before this worker came: not to be joined
        seen = s >> kGenShift;
        return false;
      }
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        seen = s >> kGenShift;
        return true;
      }
    }
    return false;
  };
  while (true) {
    if (stop_.load(std::memory_order_acquire)) return false;
    if (spin_until([&] { return try_join() || stop_.load(std::memory_order_relaxed); })) {
      if (stop_.load(std::memory_order_acquire)) return false;
      return true;
    }
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait(lock, [&] { return stop_.load() || (state_.load() >> kGenShift) != seen; });
  }
}

void ThreadPool::worker_loop(unsigned worker) {
  std::uint64_t seen = 0;
  while (join_next(seen)) {
    run_chunks(*job_, count_, chunk_, worker);
    state_.fetch_sub(1, std::memory_order_acq_rel);  // leaves the job
  }
}

void ThreadPool::run(std::int64_t count, ChunkFn fn) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    fn(0, count, 0);
    return;
  }
  // Many chunks per thread: a thread that takes the last chunk leaves the others idle for up to a chunk,
  // and a chunk costs one atomic add; 16 a thread kept ~5% idle spinning down to ~1% (perf, 2 threads).
  const std::int64_t chunk = std::max<std::int64_t>(1, count / (static_cast<std::int64_t>(size()) * 16));
  // No worker is inside a job here (the last run waited), so the fields are the caller's to write.
  job_ = &fn;
  count_ = count;
  chunk_ = chunk;
  next_.store(0, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  const std::uint64_t generation = (state_.load(std::memory_order_relaxed) >> kGenShift) + 1;
  {
    std::lock_guard<std::mutex> lock(mu_);  // a worker about to sleep checks state_ under mu_
    state_.store(generation << kGenShift | kOpen, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunks(fn, count, chunk, 0);
  const auto all_done = [&] { return finished_.load() == count; };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(mu_);
    caller_sleeping_.store(1);
    done_.wait(lock, all_done);
    caller_sleeping_.store(0);
  }
  // Close the job, then wait for the workers still inside it (they find no chunk left and leave).
  std::uint64_t s = state_.load(std::memory_order_acquire);
  while (!state_.compare_exchange_weak(s, s & ~kOpen, std::memory_order_acq_rel, std::memory_order_acquire)) {
  }
  while ((state_.load(std::memory_order_acquire) & kActive) != 0) std::this_thread::yield();
}

}  // namespace y26::kernels::cpu
