// Grids, blocks and threads. A grid's blocks run on a pool of host threads (workers) in a seeded random
// order; a block runs on one worker, each of its threads a fiber (Boost.Context) that runs until it
// reaches __syncthreads, a warp collective or its end. Between two barriers the block's threads run in a
// seeded random order, pass after pass, until every thread waits at the same barrier (released), a warp's
// lanes all reached their collective (executed here, once), or nothing can move (reported: divergence or
// deadlock). Under ThreadSanitizer each fiber is a TSan fiber and barriers, collectives that order
// memory (__syncwarp) and the grid's start and end are release/acquire pairs, so a shared-memory race
// between two threads of a block, or a global one between blocks on different workers, is reported.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "emu/src/internal.h"

namespace bc = boost::context::detail;

namespace y26::emu {

thread_local ThreadState* t_current = nullptr;

namespace {

enum : std::uint8_t { kReady, kRunning, kAtBarrier, kAtWarp, kExited };

#ifdef Y26_EMU_ASAN
constexpr std::size_t kStackBytes = 512 * 1024;  // AddressSanitizer's redzones make frames larger
#else
constexpr std::size_t kStackBytes = 128 * 1024;
#endif
constexpr int kMaxThreadsPerBlock = 1024;

// A small fast generator for the schedule (splitmix64).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }
};

void fiber_main(bc::transfer_t t);

}  // namespace

struct Fiber {
  bc::fcontext_t ctx = nullptr;
  char* base = nullptr;  // mapping: a guard page, then the stack
  void* tsan = nullptr;  // its TSan fiber: every thread it runs accesses memory as this one
  explicit Fiber(const std::string& name) : tsan(tsan::create(name.c_str())) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "y26 emu: cannot map a fiber stack\n");
      std::abort();
    }
    base = static_cast<char*>(m);
    mprotect(base, page, PROT_NONE);  // a thread that overflows its stack faults instead of corrupting another's
    ctx = bc::make_fcontext(base + page + kStackBytes, kStackBytes, fiber_main);
  }
  // A fiber whose thread was abandoned (its block stopped on an error) is replaced, stack and all: its
  // frames hold nothing that needs unwinding, and unmapping the stack makes the sanitizers forget it.
  ~Fiber() {
#ifdef Y26_EMU_TSAN
    __tsan_destroy_fiber(tsan);
#endif
    munmap(base, kStackBytes + static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
  }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  void* stack_bottom() const { return base + sysconf(_SC_PAGESIZE); }
};

struct Block {
  GridRun* grid = nullptr;
  uint3 idx{};
  int threads = 0;
  SyncToken barrier;                               // TSan: a fresh sync object per block
  std::unique_ptr<char[]> warp_sync{new char[32]};  // TSan: one per warp (__syncwarp)
};

namespace {

struct Worker {
  int id = 0;
  bc::fcontext_t sched = nullptr;  // the scheduler's context while a fiber runs
  void* tsan_self = nullptr;
  // TSan: blocks that run one after another on this worker reuse its shared memory, so each block's
  // threads start after the previous block's threads ended (and not after each other's ends).
  std::unique_ptr<SyncToken> previous_block_end, block_end;
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::unique_ptr<ThreadState[]> threads{new ThreadState[kMaxThreadsPerBlock]};
  std::vector<int> order;
  // static __shared__ variables poisoned in the current block (shared_touch): this block's number
  std::uint64_t block_number = 0;
  std::vector<std::pair<void*, std::uint64_t>> shared_poisoned;
  const void* stack_bottom = nullptr;  // the host thread's own stack (AddressSanitizer's fiber switches)
  std::size_t stack_size = 0;
  void ensure_fibers(int n) {
    while (static_cast<int>(fibers.size()) < n)
      fibers.push_back(std::make_unique<Fiber>("y26 emu worker " + std::to_string(id) + " thread slot " +
                                               std::to_string(fibers.size())));
  }
};

thread_local Worker* t_worker = nullptr;

std::string dim_text(uint3 v);

// ---- switching between the scheduler and a fiber ----

// Jumps to `to` (a fiber, or the scheduler's context) on this host thread, telling ThreadSanitizer whose
// accesses follow and AddressSanitizer which stack they are on; returns when something jumps back.
bc::transfer_t switch_context(bc::fcontext_t to, void* data, void* tsan_to, const void* stack_bottom,
                              std::size_t stack_size) {
  tsan::switch_to(tsan_to);
#ifdef Y26_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, stack_bottom, stack_size);
#else
  (void)stack_bottom, (void)stack_size;
#endif
  const bc::transfer_t back = bc::jump_fcontext(to, data);
#ifdef Y26_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  return back;
}

void resume(ThreadState& t) {
  Fiber* f = t.fiber;
  t_current = &t;
  threadIdx = t.thread_idx, blockIdx = t.block_idx, blockDim = t.block_dim, gridDim = t.grid_dim;
  t.state = kRunning;
  f->ctx = switch_context(f->ctx, f, f->tsan, f->stack_bottom(), kStackBytes).fctx;
  t_current = nullptr;
}

// Called on a fiber: back to the scheduler until it resumes this fiber again.
void park() {
  Worker* const w = t_worker;
  t_worker->sched = switch_context(w->sched, nullptr, w->tsan_self, w->stack_bottom, w->stack_size).fctx;
}

void run_thread(ThreadState& t) {
  Worker* const w = t_worker;
  GridRun& g = *t.block->grid;
  if (w->previous_block_end) tsan::acquire(w->previous_block_end->p);
  tsan::acquire(g.launch->programmatic ? g.early_sync : g.start_sync);
  g.launch->body();
  // Copies no wait covered never land: their destinations keep the poison (and the thread is reported).
  if (t.num_copies > t.first_copy)
    device_error("cp.async", "exits with %d cp.async copies no wait covered (a __pipeline_wait_prior too lax?)",
                 t.num_copies - t.first_copy);
  tsan::release(g.done_sync);
  tsan::release(w->block_end->p);
}

void fiber_main(bc::transfer_t from) {
  t_worker->sched = from.fctx;
#ifdef Y26_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &t_worker->stack_bottom, &t_worker->stack_size);
#endif
  for (;;) {
    run_thread(*t_current);
    t_current->state = kExited;
    park();
  }
}

// ---- a block ----

std::string dim_text(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
std::string block_text(const Block& b) { return b.grid->launch->name + " block " + dim_text(b.idx); }
std::string thread_text(const ThreadState& t) { return dim_text(t.thread_idx); }
bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() && std::strcmp(a.file_name(), b.file_name()) == 0;
}
std::string site_text(const std::source_location& s) {
  const char* f = std::strrchr(s.file_name(), '/');
  return std::string(f ? f + 1 : s.file_name()) + ":" + std::to_string(s.line());
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Shfl: return "__shfl_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::MatchAny: return "__match_any_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::SyncWarp: return "__syncwarp";
    case WarpOp::Mma: return "wmma::mma_sync";
  }
  return "?";
}

class BlockRun {
 public:
  BlockRun(Worker& w, GridRun& g, uint3 idx, std::uint64_t seed) : w_(w), rng_{seed} {
    b_.grid = &g;
    b_.idx = idx;
    const dim3 bd = g.launch->block;
    b_.threads = static_cast<int>(bd.x * bd.y * bd.z);
    w.ensure_fibers(b_.threads);
    for (int i = 0; i < b_.threads; ++i) {
      ThreadState& t = w.threads[i];
      t.thread_idx = make_uint3(static_cast<unsigned>(i) % bd.x, (static_cast<unsigned>(i) / bd.x) % bd.y,
                                static_cast<unsigned>(i) / (bd.x * bd.y));
      t.block_idx = idx;
      t.block_dim = bd;
      t.grid_dim = g.launch->grid;
      t.linear = i, t.warp = i / 32, t.lane = i % 32;
      t.state = kReady;
      t.block = &b_;
      t.fiber = w.fibers[static_cast<size_t>(i)].get();
      t.num_copies = t.num_groups = t.first_group = t.first_copy = 0;
      t.grid_dependency_waited = false;
      if constexpr (tsan::on)  // race reports name the emulated thread by its fiber's name
        tsan::name(t.fiber->tsan, (g.launch->name + " block " + dim_text(idx) + " thread " + dim_text(t.thread_idx)).c_str());
    }
  }

  void run() {
    ++w_.block_number;
    w_.block_end = std::make_unique<SyncToken>();
    run_threads();
    w_.previous_block_end = std::move(w_.block_end);
  }

 private:
  void run_threads() {
    std::vector<int>& ready = w_.order;
    ready.resize(static_cast<size_t>(b_.threads));
    for (int i = 0; i < b_.threads; ++i) ready[static_cast<size_t>(i)] = i;
    for (;;) {
      rng_.shuffle(ready);
      for (int i : ready) resume(w_.threads[i]);
      ready.clear();
      if (!resolve_warps(ready)) return;
      if (!ready.empty()) continue;
      int exited = 0, at_barrier = 0;
      const ThreadState* first = nullptr;
      bool one_site = true;
      for (int i = 0; i < b_.threads; ++i) {
        const ThreadState& t = w_.threads[i];
        if (t.state == kExited) ++exited;
        if (t.state == kAtBarrier) {
          ++at_barrier;
          if (first == nullptr) first = &t;
          one_site = one_site && same_site(t.site, first->site);
        }
      }
      if (exited == b_.threads) return;
      if (at_barrier + exited == b_.threads && one_site && exited == 0) {
        for (int i = 0; i < b_.threads; ++i) {
          w_.threads[i].state = kReady;
          ready.push_back(i);
        }
        continue;
      }
      fail_stuck(exited, at_barrier, one_site);
      return;
    }
  }

  // Executes every warp collective whose lanes have all arrived at it (the same operation with the same
  // mask); lanes busy at another collective keep it waiting. False when a mask names a lane that cannot come.
  bool resolve_warps(std::vector<int>& ready) {
    const int warps = (b_.threads + 31) / 32;
    for (int wi = 0; wi < warps; ++wi) {
      ThreadState* lanes[32] = {};
      const int base = wi * 32, count = std::min(32, b_.threads - base);
      unsigned waiting = 0;
      for (int l = 0; l < count; ++l) {
        lanes[l] = &w_.threads[base + l];
        if (lanes[l]->state == kAtWarp) waiting |= 1u << l;
      }
      unsigned done = 0;
      for (int l = 0; l < count; ++l) {
        if (!((waiting & ~done) >> l & 1)) continue;
        const ThreadState& first = *lanes[l];
        const unsigned mask = first.mask;
        const unsigned exists = count == 32 ? 0xffffffffu : (1u << count) - 1;
        if (mask & ~exists) {
          return fail(first, "warp collective mask", std::string(op_name(first.op)) + " at " + site_text(first.site) +
                                                         " with mask 0x" + hex(mask) +
                                                         " names lanes that do not exist in a block of " +
                                                         std::to_string(b_.threads) + " threads");
        }
        bool complete = true;
        for (int j = 0; j < count && complete; ++j) {
          if (!(mask >> j & 1)) continue;
          const ThreadState& o = *lanes[j];
          if (o.state == kExited) {
            return fail(first, "warp collective mask", std::string(op_name(first.op)) + " at " + site_text(first.site) +
                                                           " with mask 0x" + hex(mask) + " waits for lane " +
                                                           std::to_string(j) + ", which has exited");
          }
          complete = o.state == kAtWarp && o.op == first.op && o.mask == mask;
        }
        if (!complete) continue;
        if (!execute(lanes, mask, first)) return false;
        done |= mask;
      }
      for (int l = 0; l < count; ++l) {
        if (done >> l & 1) {
          lanes[l]->state = kReady;
          ready.push_back(base + l);
        }
      }
    }
    return true;
  }

  bool execute(ThreadState* const* lanes, unsigned mask, const ThreadState& first) {
    const WarpOp op = first.op;
    if (op == WarpOp::Mma) {
      if (mask != 0xffffffffu) return fail(first, "warp collective mask", "wmma::mma_sync needs all 32 lanes");
      first.mma_fn(lanes);
      return true;
    }
    std::uint64_t result[32] = {};
    unsigned ballot = 0;
    for (int l = 0; l < 32; ++l)
      if (mask >> l & 1 && lanes[l]->value != 0) ballot |= 1u << l;
    for (int l = 0; l < 32; ++l) {
      if (!(mask >> l & 1)) continue;
      const ThreadState& t = *lanes[l];
      const int width = t.width, seg = l / width * width;
      int src = l;
      switch (op) {
        case WarpOp::Shfl: src = seg + (t.arg & (width - 1)); break;
        case WarpOp::ShflXor: src = l ^ t.arg; break;
        case WarpOp::ShflUp: src = l - t.arg; break;
        case WarpOp::ShflDown: src = l + t.arg; break;
        default: break;
      }
      if (op == WarpOp::Shfl || op == WarpOp::ShflXor || op == WarpOp::ShflUp || op == WarpOp::ShflDown) {
        if (src < seg || src >= seg + width) src = l;  // outside the lane's segment: its own value
        if (!(mask >> src & 1)) {
          return fail(t, "warp collective mask", std::string(op_name(op)) + " in lane " + std::to_string(l) +
                                                     " reads lane " + std::to_string(src) + ", which is not in mask 0x" +
                                                     hex(mask));
        }
        result[l] = lanes[src]->value;
      } else if (op == WarpOp::Ballot) {
        result[l] = ballot;
      } else if (op == WarpOp::Any) {
        result[l] = ballot != 0;
      } else if (op == WarpOp::All) {
        result[l] = ballot == mask;
      } else if (op == WarpOp::MatchAny) {
        unsigned same = 0;
        for (int j = 0; j < 32; ++j)
          if (mask >> j & 1 && lanes[j]->value == t.value) same |= 1u << j;
        result[l] = same;
      }
    }
    for (int l = 0; l < 32; ++l)
      if (mask >> l & 1) lanes[l]->result = result[l];
    return true;
  }

  static std::string hex(unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
  }

  bool fail(const ThreadState& t, const char* check, const std::string& what) {
    report(check, b_.grid->launch->name, block_text(b_) + " thread " + thread_text(t) + ": " + what);
    abandon();
    return false;
  }

  void fail_stuck(int exited, int at_barrier, bool one_site) {
    std::string what;
    const ThreadState* barrier = nullptr;
    const ThreadState* warp = nullptr;
    const ThreadState* gone = nullptr;
    for (int i = 0; i < b_.threads; ++i) {
      const ThreadState& t = w_.threads[i];
      if (t.state == kAtBarrier && !barrier) barrier = &t;
      if (t.state == kAtWarp && !warp) warp = &t;
      if (t.state == kExited && !gone) gone = &t;
    }
    if (!one_site) {
      for (int i = 0; i < b_.threads; ++i) {
        const ThreadState& t = w_.threads[i];
        if (t.state == kAtBarrier && !same_site(t.site, barrier->site)) {
          what = "thread " + thread_text(*barrier) + " waits at __syncthreads " + site_text(barrier->site) + ", thread " +
                 thread_text(t) + " at __syncthreads " + site_text(t.site);
          break;
        }
      }
    } else if (warp) {
      what = "thread " + thread_text(*warp) + " waits at " + op_name(warp->op) + " " + site_text(warp->site) +
             " with mask 0x" + hex(warp->mask) + " for lanes that never arrive" +
             (barrier ? " (thread " + thread_text(*barrier) + " waits at __syncthreads " + site_text(barrier->site) + ")"
                      : std::string());
    } else {
      what = std::to_string(exited) + " threads exited (e.g. thread " + thread_text(*gone) + ") while " +
             std::to_string(at_barrier) + " wait at __syncthreads " + site_text(barrier->site);
    }
    report("barrier divergence", b_.grid->launch->name, block_text(b_) + ": " + what);
    abandon();
  }

  // Stops the block: threads still inside the kernel are dropped, their fibers start afresh.
  void abandon() {
    for (int i = 0; i < b_.threads; ++i) {
      ThreadState& t = w_.threads[i];
      if (t.state == kExited) continue;
      // what the dropped thread read is ordered before the launch is freed, as if it had exited
      tsan::switch_to(t.fiber->tsan);
      tsan::release(b_.grid->done_sync);
      tsan::switch_to(w_.tsan_self);
      w_.fibers[static_cast<size_t>(i)] = std::make_unique<Fiber>("y26 emu thread slot (renewed)");
      t.fiber = nullptr;
      t.state = kExited;
    }
  }

  Worker& w_;
  Block b_;
  Rng rng_;
};

// ---- the worker pool ----

struct GridJob {
  GridRun* grid = nullptr;
  std::vector<uint3> order;
  std::size_t next = 0;  // under the pool's lock
  std::atomic<std::size_t> done{0};
  std::mutex m;
  std::condition_variable cv;
};

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(GridJob* j) {
    {
      std::lock_guard<std::mutex> lock(m_);
      jobs_.push_back(j);
    }
    cv_.notify_all();
  }

 private:
  void loop(int id) {
    Worker w;
    w.id = id;
    w.tsan_self = tsan::current();
    t_worker = &w;
    for (;;) {
      GridJob* j = nullptr;
      std::size_t i = 0;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (stop_ && jobs_.empty()) return;
        j = jobs_.front();
        i = j->next++;
        if (j->next == j->order.size()) jobs_.pop_front();
      }
      const std::uint64_t seed = j->grid->seed ^ (0x9E3779B97F4A7C15ull * (i + 1));
      // TSan: this worker reads the launch (its name, its shape) after the stream published it, and the
      // stream frees it after every block; the kernels' own threads are fibers with clocks of their own.
      tsan::acquire(j->grid->start_sync);
      BlockRun(w, *j->grid, j->order[i], seed).run();
      tsan::release(j->grid->done_sync);
      // Counted and signalled under the job's lock: run_grid returns, and the job (on its stack) dies, as soon
      // as it sees the count complete. Counted outside the lock, the waiter could see the last block done
      // (checking its predicate before a wait, or woken spuriously) and return while the last worker was yet
      // to lock the job's mutex and notify its condition variable: a use after scope that hung or aborted
      // the process about once in 30 runs of the conv test ("___pthread_mutex_lock: Assertion
      // `mutex->__data.__owner == 0' failed", or a join at exit that never returned).
      {
        std::lock_guard<std::mutex> lock(j->m);
        if (j->done.fetch_add(1) + 1 == j->order.size()) j->cv.notify_all();
      }
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<GridJob*> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

Pool& pool() {
  static Pool p(workers());
  return p;
}

}  // namespace

int workers() {
  static const int n = [] {
    if (const char* e = std::getenv("Y26_EMU_WORKERS")) {
      const int v = std::atoi(e);
      if (v >= 1 && v <= 64) return v;
    }
    const unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 2 : static_cast<int>(hc);
  }();
  return n;
}

void run_grid(GridRun& g) {
  const KernelLaunch& L = *g.launch;
  GridJob j;
  j.grid = &g;
  j.order.reserve(static_cast<size_t>(L.grid.x) * L.grid.y * L.grid.z);
  for (unsigned z = 0; z < L.grid.z; ++z)
    for (unsigned y = 0; y < L.grid.y; ++y)
      for (unsigned x = 0; x < L.grid.x; ++x) j.order.push_back(make_uint3(x, y, z));
  Rng{g.seed}.shuffle(j.order);
  if (j.order.empty()) return;
  pool().submit(&j);
  std::unique_lock<std::mutex> lock(j.m);
  j.cv.wait(lock, [&] { return j.done.load() == j.order.size(); });
  lock.unlock();
  flush_sanitizer_reports();
}

// ---- the device side's entry points ----

void syncthreads_at(const std::source_location& site) {
  ThreadState* const t = t_current;
  t->site = site;
  t->state = kAtBarrier;
  tsan::release(t->block->barrier.p);
  park();
  tsan::acquire(t_current->block->barrier.p);
}

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width,
                              const std::source_location& site) {
  ThreadState* const t = t_current;
  if (!(mask >> t->lane & 1)) {
    device_error("warp collective mask", "%s with mask 0x%08x, which does not name the calling lane %d", op_name(op), mask,
                 t->lane);
  }
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
    device_error("warp collective", "%s with width %d (a power of two up to 32)", op_name(op), width);
    width = 32;
  }
  t->op = op, t->mask = mask | (1u << t->lane), t->value = value, t->arg = arg, t->width = width, t->site = site;
  t->state = kAtWarp;
  char* const sync = t->block->warp_sync.get() + t->warp;
  if (op == WarpOp::SyncWarp) tsan::release(sync);
  park();
  if (op == WarpOp::SyncWarp) tsan::acquire(sync);
  return t_current->result;
}

void shared_touch(void* p, std::size_t bytes) {
  Worker* const w = t_worker;
  for (auto& [q, block] : w->shared_poisoned) {
    if (q != p) continue;
    if (block == w->block_number) return;
    block = w->block_number;
    if (!tsan::on) std::memset(p, kPoisonByte, bytes);  // ThreadSanitizer would see the fill as a racing write
    return;
  }
  w->shared_poisoned.emplace_back(p, w->block_number);
  if (!tsan::on) std::memset(p, kPoisonByte, bytes);
}

void grid_dependency_synchronize() {
  ThreadState* const t = t_current;
  if (!t->grid_dependency_waited && t->block->grid->launch->programmatic) tsan::acquire(t->block->grid->start_sync);
  t->grid_dependency_waited = true;
}

std::string describe_current_thread() {
  const ThreadState* t = t_current;
  if (t == nullptr) return "host";
  return t->block->grid->launch->name + " block " + dim_text(t->block_idx) + " thread " + dim_text(t->thread_idx);
}

const std::string& current_kernel_name() {
  static const std::string host = "host";
  return t_current ? t_current->block->grid->launch->name : host;
}


}  // namespace y26::emu

thread_local uint3 threadIdx, blockIdx;
thread_local dim3 blockDim, gridDim;
