// Streams, events and graphs of the emulated device. Each stream is a host thread running its
// operations in order; kernels run on the worker pool (scheduler.cpp) while their stream's thread waits.
// Under ThreadSanitizer each stream's operations run on a TSan fiber of their own (its timeline), and
// stream order, events, graph edges and host synchronisation are release/acquire pairs: device memory
// written on one stream and touched on another without such an ordering is reported as a race.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "emu/src/internal.h"

namespace y26::emu {

struct Stream;
struct Capture;

struct Event {
  unsigned flags = 0;
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t recorded = 0, completed = 0;  // generations: cudaEventRecord calls, and those that ran
  std::chrono::steady_clock::time_point time;
  SyncToken sync;
  // recorded into a capture: what a wait on it depends on
  Capture* captured = nullptr;
  std::vector<int> captured_tail;
};

struct Op {
  enum Kind { Kernel, Copy, Set, Record, Wait, WaitStream } kind = Kernel;
  std::shared_ptr<const KernelLaunch> kernel;
  void* dst = nullptr;
  const void* src = nullptr;
  std::size_t bytes = 0;
  int value = 0;
  std::shared_ptr<std::vector<unsigned char>> staged;  // pageable host source, copied at the call
  Event* event = nullptr;
  std::uint64_t generation = 0;
  Stream* other = nullptr;  // WaitStream: the legacy stream's implicit synchronisation
  std::uint64_t other_count = 0;
  std::shared_ptr<SyncToken> host;  // TSan: released by the thread that submitted it
};

struct Stream {
  Stream(unsigned flags, bool legacy, const std::string& name);
  ~Stream();  // waits for its work
  void submit(Op op);
  void synchronize();  // host waits for everything submitted so far
  bool blocking() const { return !legacy && !(flags & cudaStreamNonBlocking); }

  const unsigned flags;
  const bool legacy;
  const std::string name;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Op> queue;
  std::uint64_t submitted = 0, completed = 0;
  bool stop = false;
  void* timeline = nullptr;  // TSan fiber of its operations
  SyncToken done;            // TSan: released after each operation
  SyncToken before_last_kernel;  // TSan: its order before the last kernel finished (programmatic launch)
  bool last_was_kernel = false;
  // stream capture
  Capture* capture = nullptr;
  std::vector<int> tail;  // captured nodes the next captured operation depends on
  std::thread thread;

 private:
  void loop();
  void execute(Op& op, void* self);
  template <typename Done>
  void wait_then_acquire(std::mutex& mutex, std::condition_variable& changed, Done ready, void* sync, void* self);
};

struct Node {
  Op op;
  std::vector<int> deps;
  Stream* stream;  // the captured stream it came from: its lane in the executable graph
};
struct Capture {
  Stream* origin = nullptr;
  std::vector<Node> nodes;
  std::vector<Stream*> members;
  bool invalidated = false;
};
struct Graph {
  std::vector<Node> nodes;
};

Stream* legacy_stream();
Stream* resolve(cudaStream_t s);  // null: not a stream of this device
void register_stream(Stream* s);
void unregister_stream(Stream* s);
void synchronize_all();
// Submits op to s, or adds it to s's capture; legacy-stream semantics for blocking streams.
cudaError_t enqueue(Stream* s, Op op);

}  // namespace y26::emu
