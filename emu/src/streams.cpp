#include "emu/src/streams.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace y26::emu {
namespace {

struct StreamRegistry {
  std::mutex m;
  std::set<Stream*> streams;
};
StreamRegistry& streams() {
  static StreamRegistry* r = new StreamRegistry;  // outlives every static destructor
  return *r;
}

std::atomic<std::uint64_t> g_launches{0};

}  // namespace

Stream::Stream(unsigned f, bool l, const std::string& n) : flags(f), legacy(l), name(n) {
  timeline = tsan::create(("y26 emu " + name).c_str());
  thread = std::thread([this] { loop(); });
}

Stream::~Stream() {
  {
    std::lock_guard<std::mutex> lock(m);
    stop = true;
  }
  cv.notify_all();
  thread.join();
}

void Stream::submit(Op op) {
  op.host = std::make_shared<SyncToken>();
  tsan::release(op.host->p);  // what the submitting thread did before happens before the operation
  {
    std::lock_guard<std::mutex> lock(m);
    queue.push_back(std::move(op));
    ++submitted;
  }
  cv.notify_all();
}

void Stream::synchronize() {
  std::unique_lock<std::mutex> lock(m);
  const std::uint64_t target = submitted;
  cv.wait(lock, [&] { return completed >= target; });
  lock.unlock();
  tsan::acquire(done.p);
}

void Stream::loop() {
  void* const self = tsan::current();
  for (;;) {
    Op op;
    {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;
      op = std::move(queue.front());
      queue.pop_front();
    }
    execute(op, self);
    {
      std::lock_guard<std::mutex> lock(m);
      ++completed;
      cv.notify_all();
    }
  }
}

// Waits (in the stream thread's own TSan context) until `ready()`, then acquires `sync` on the timeline.
template <typename Done>
void Stream::wait_then_acquire(std::mutex& mutex, std::condition_variable& changed, Done ready, void* sync, void* self) {
  tsan::switch_to(self);
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, ready);
  }
  tsan::switch_to(timeline);
  tsan::acquire(sync);
}

// Runs on the stream's thread. Mutexes and condition variables are used in the thread's own TSan
// context; the timeline only ever sees the operation's memory accesses and its release/acquire pairs.
void Stream::execute(Op& op, void* self) {
  tsan::switch_to(timeline);
  tsan::acquire(op.host->p);
  switch (op.kind) {
    case Op::Kernel: {
      SyncToken start, finished;
      tsan::release(start.p);
      GridRun g;
      g.launch = op.kernel.get();
      g.seed = seed() ^ (0xD1B54A32D192ED03ull * ++g_launches);
      g.start_sync = start.p;
      g.early_sync = op.kernel->programmatic && last_was_kernel ? before_last_kernel.p : start.p;
      g.done_sync = finished.p;
      tsan::switch_to(self);
      run_grid(g);
      tsan::switch_to(timeline);
      tsan::release(before_last_kernel.p);
      tsan::acquire(finished.p);
      last_was_kernel = true;
      break;
    }
    case Op::Copy: {
      const void* src = op.staged ? static_cast<const void*>(op.staged->data()) : op.src;
      tsan::read_range(src, op.bytes);
      tsan::write_range(op.dst, op.bytes);
      std::memmove(op.dst, src, op.bytes);
      last_was_kernel = false;
      break;
    }
    case Op::Set:
      tsan::write_range(op.dst, op.bytes);
      std::memset(op.dst, op.value, op.bytes);
      last_was_kernel = false;
      break;
    case Op::Record: {
      tsan::release(op.event->sync.p);
      tsan::switch_to(self);
      {  // notified under the lock: a waiter that wakes may destroy the event right after
        std::lock_guard<std::mutex> lock(op.event->m);
        op.event->completed = std::max(op.event->completed, op.generation);
        op.event->time = std::chrono::steady_clock::now();
        op.event->cv.notify_all();
      }
      tsan::switch_to(timeline);
      break;
    }
    case Op::Wait:
      wait_then_acquire(op.event->m, op.event->cv, [&] { return op.event->completed >= op.generation; }, op.event->sync.p,
                        self);
      break;
    case Op::WaitStream:
      wait_then_acquire(op.other->m, op.other->cv, [&] { return op.other->completed >= op.other_count; },
                        op.other->done.p, self);
      break;
  }
  // Freed on the timeline, ordered after everyone who read them (the blocks read the launch's arguments).
  op.kernel.reset();
  op.staged.reset();
  tsan::release(done.p);
  tsan::switch_to(self);
}

Stream* legacy_stream() {
  static Stream* s = [] {
    auto* l = new Stream(0, true, "legacy stream");
    register_stream(l);
    return l;
  }();
  return s;
}

void register_stream(Stream* s) {
  std::lock_guard<std::mutex> lock(streams().m);
  streams().streams.insert(s);
}
void unregister_stream(Stream* s) {
  std::lock_guard<std::mutex> lock(streams().m);
  streams().streams.erase(s);
}

Stream* resolve(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return legacy_stream();
  auto* p = reinterpret_cast<Stream*>(s);
  std::lock_guard<std::mutex> lock(streams().m);
  return streams().streams.count(p) ? p : nullptr;
}

void synchronize_all() {
  std::vector<Stream*> all;
  {
    std::lock_guard<std::mutex> lock(streams().m);
    all.assign(streams().streams.begin(), streams().streams.end());
  }
  for (Stream* s : all) s->synchronize();
}

cudaError_t enqueue(Stream* s, Op op) {
  if (s->capture) {
    Capture& c = *s->capture;
    if (op.kind == Op::Copy && op.staged) {  // a captured copy reads its source when the graph runs
      c.invalidated = true;
      return cudaErrorStreamCaptureUnsupported;
    }
    c.nodes.push_back({std::move(op), s->tail, s});
    s->tail = {static_cast<int>(c.nodes.size()) - 1};
    return cudaSuccess;
  }
  // The legacy stream waits for blocking streams' earlier work and they wait for its.
  std::vector<std::pair<Stream*, std::uint64_t>> before;
  {
    std::lock_guard<std::mutex> lock(streams().m);
    for (Stream* o : streams().streams) {
      if (o == s) continue;
      if ((s->legacy && o->blocking()) || (s->blocking() && o->legacy)) {
        std::lock_guard<std::mutex> olock(o->m);
        if (o->submitted > o->completed) before.emplace_back(o, o->submitted);
      }
    }
  }
  for (const auto& [o, count] : before) {
    Op w;
    w.kind = Op::WaitStream;
    w.other = o, w.other_count = count;
    s->submit(std::move(w));
  }
  s->submit(std::move(op));
  return cudaSuccess;
}

}  // namespace y26::emu
