// The CUDA runtime subset of the emulated device (emu/runtime.h): memory, copies, streams, events,
// stream capture and graphs, launches, the device's properties and errors.
#include <algorithm>
#include <cstring>
#include <set>

#include "emu/src/streams.h"

namespace y26::emu {
namespace {

constexpr std::size_t kTotalMemory = 80ull << 30;  // an H100's 80 GB
constexpr int kSms = 132;
thread_local cudaError_t t_last_error = cudaSuccess;

cudaError_t fail(cudaError_t e) {
  if (e != cudaSuccess) t_last_error = e;
  return e;
}

struct GraphExec {
  std::vector<Node> nodes;
  std::vector<int> lane;  // node -> index into lanes
  std::vector<std::unique_ptr<Event>> node_done;  // recorded after node i when a node on another lane needs it
  std::vector<char> needed_elsewhere;
  Event start;
  std::vector<std::unique_ptr<Event>> lane_end;
  std::vector<std::unique_ptr<Stream>> lanes;  // last: destroyed first, finishing their work before the events go
};

std::string range_text(const void* p, std::size_t n) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "[%p, +%zu bytes)", p, n);
  return buf;
}

// What the two sides of a copy are.
struct CopyEnds {
  bool src_device = false, dst_device = false, src_pinned = false;
};

// Checks a copy's ranges against the allocations its kind names and says what its sides are; false (and a
// report) when one is off.
bool check_copy(const char* call, void* dst, const void* src, std::size_t n, cudaMemcpyKind kind, CopyEnds* ends) {
  MemoryKind sk = MemoryKind::Device, dk = MemoryKind::Device;
  const bool src_known = range_in_allocation(src, n, &sk), dst_known = range_in_allocation(dst, n, &dk);
  if (kind == cudaMemcpyDefault) {
    kind = src_known && sk == MemoryKind::Device ? (dst_known && dk == MemoryKind::Device ? cudaMemcpyDeviceToDevice
                                                                                         : cudaMemcpyDeviceToHost)
                                                 : cudaMemcpyHostToDevice;
  }
  ends->src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  ends->dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  ends->src_pinned = src_known && sk == MemoryKind::Pinned;
  if (ends->src_device && !(src_known && sk == MemoryKind::Device)) {
    report("out of bounds", call, std::string(call) + " reads device memory " + range_text(src, n) +
                                      " that is not inside one device allocation");
    return false;
  }
  if (ends->dst_device && !(dst_known && dk == MemoryKind::Device)) {
    report("out of bounds", call, std::string(call) + " writes device memory " + range_text(dst, n) +
                                      " that is not inside one device allocation");
    return false;
  }
  return true;
}

// Checks a copy and submits it to s; a pageable host source is staged now, as the driver does.
cudaError_t submit_copy(const char* call, void* dst, const void* src, std::size_t n, cudaMemcpyKind kind, Stream* s,
                        CopyEnds* ends) {
  if (!check_copy(call, dst, src, n, kind, ends)) return fail(cudaErrorInvalidValue);
  Op op;
  op.kind = Op::Copy;
  op.dst = dst, op.src = src, op.bytes = n;
  if (!ends->src_device && !ends->src_pinned) {
    op.staged = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                             static_cast<const unsigned char*>(src) + n);
  }
  return enqueue(s, std::move(op)) == cudaSuccess ? cudaSuccess : fail(cudaErrorStreamCaptureUnsupported);
}

// cudaEventRecord's and cudaStreamWaitEvent's submissions outside a capture (also a graph launch's edges).
cudaError_t submit_record(Event& e, Stream* s) {
  Op op;
  op.kind = Op::Record;
  op.event = &e;
  {
    std::lock_guard<std::mutex> lock(e.m);
    e.captured = nullptr;
    op.generation = ++e.recorded;
  }
  return enqueue(s, std::move(op));
}
cudaError_t submit_wait(Event& e, Stream* s) {
  Op op;
  op.kind = Op::Wait;
  op.event = &e;
  {
    std::lock_guard<std::mutex> lock(e.m);
    op.generation = e.recorded;  // the most recent record at the time of this call
  }
  if (op.generation == 0) return cudaSuccess;  // never recorded: nothing to wait for
  return enqueue(s, std::move(op));
}

// The capture a stream belongs to must not be synchronised with: that invalidates it.
bool capturing(Stream* s) {
  if (s->capture) {
    s->capture->invalidated = true;
    return true;
  }
  return false;
}

}  // namespace

cudaError_t launch(const cudaLaunchConfig_t& cfg, KernelLaunch k) {
  const dim3 g = cfg.gridDim, b = cfg.blockDim;
  const unsigned long long threads = static_cast<unsigned long long>(b.x) * b.y * b.z;
  if (g.x == 0 || g.y == 0 || g.z == 0 || b.x == 0 || b.y == 0 || b.z == 0 || threads > 1024 || b.z > 64 ||
      g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535) {
    report("launch configuration", k.name,
           k.name + ": grid (" + std::to_string(g.x) + "," + std::to_string(g.y) + "," + std::to_string(g.z) + ") block (" +
               std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.z) + ") is not a valid launch");
    return fail(cudaErrorInvalidConfiguration);
  }
  if (cfg.dynamicSmemBytes != 0) {
    report("launch configuration", k.name, k.name + ": dynamic shared memory is not emulated (y26's kernels use none)");
    return fail(cudaErrorInvalidValue);
  }
  Stream* s = resolve(cfg.stream);
  if (!s) return fail(cudaErrorInvalidResourceHandle);
  k.grid = g, k.block = b;
  for (unsigned i = 0; i < cfg.numAttrs; ++i)
    if (cfg.attrs[i].id == cudaLaunchAttributeProgrammaticStreamSerialization &&
        cfg.attrs[i].val.programmaticStreamSerializationAllowed)
      k.programmatic = true;
  Op op;
  op.kind = Op::Kernel;
  op.kernel = std::make_shared<const KernelLaunch>(std::move(k));
  return enqueue(s, std::move(op));
}

namespace api {

cudaError_t cudaMalloc(void** p, std::size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue);
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  if (bytes > kTotalMemory - static_cast<std::size_t>(device_bytes_allocated())) return fail(cudaErrorMemoryAllocation);
  *p = allocate(bytes, MemoryKind::Device);
  return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  synchronize_all();  // like the real one: a free waits for the work that may still use the memory
  return release(p, MemoryKind::Device) ? cudaSuccess : fail(cudaErrorInvalidValue);
}

cudaError_t cudaMallocHost(void** p, std::size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue);
  *p = allocate(bytes, MemoryKind::Pinned);
  return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  synchronize_all();
  return release(p, MemoryKind::Pinned) ? cudaSuccess : fail(cudaErrorInvalidValue);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t n, cudaMemcpyKind kind, cudaStream_t stream) {
  Stream* s = resolve(stream);
  if (!s) return fail(cudaErrorInvalidResourceHandle);
  if (n == 0) return cudaSuccess;
  CopyEnds ends;
  return submit_copy("cudaMemcpyAsync", dst, src, n, kind, s, &ends);
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t n, cudaMemcpyKind kind) {
  Stream* s = legacy_stream();
  if (n == 0) return cudaSuccess;
  CopyEnds ends;
  const cudaError_t e = submit_copy("cudaMemcpy", dst, src, n, kind, s, &ends);
  if (e != cudaSuccess) return e;
  // From pageable host memory to the device the call returns once the source is staged, before the copy
  // lands (the CUDA runtime's documented behaviour), and device-to-device copies do not wait either:
  // work on other streams that reads the destination must be ordered after it.
  if (ends.dst_device && (ends.src_device || !ends.src_pinned)) return cudaSuccess;
  s->synchronize();
  return fail(take_launch_error());
}

cudaError_t cudaMemsetAsync(void* p, int value, std::size_t n, cudaStream_t stream) {
  Stream* s = resolve(stream);
  if (!s) return fail(cudaErrorInvalidResourceHandle);
  if (n == 0) return cudaSuccess;
  if (!device_range_ok(p, n)) {
    report("out of bounds", "cudaMemset", "cudaMemset writes " + range_text(p, n) + ", not inside one allocation");
    return fail(cudaErrorInvalidValue);
  }
  Op op;
  op.kind = Op::Set;
  op.dst = p, op.bytes = n, op.value = value;
  return enqueue(s, std::move(op));
}

cudaError_t cudaMemset(void* p, int value, std::size_t n) { return api::cudaMemsetAsync(p, value, n, nullptr); }

cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total) {
  if (!free || !total) return fail(cudaErrorInvalidValue);
  *total = kTotalMemory;
  *free = kTotalMemory - static_cast<std::size_t>(device_bytes_allocated());
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* out, unsigned flags) {
  if (!out) return fail(cudaErrorInvalidValue);
  static std::atomic<int> counter{0};
  auto* s = new Stream(flags, false, "stream " + std::to_string(++counter));
  register_stream(s);
  *out = reinterpret_cast<cudaStream_t>(s);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* out) { return api::cudaStreamCreateWithFlags(out, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Stream* s = resolve(stream);
  if (!s || s->legacy) return fail(cudaErrorInvalidResourceHandle);
  if (s->capture) return fail(cudaErrorStreamCaptureUnsupported);
  unregister_stream(s);
  delete s;  // its thread finishes what was submitted first
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Stream* s = resolve(stream);
  if (!s) return fail(cudaErrorInvalidResourceHandle);
  if (capturing(s)) return fail(cudaErrorStreamCaptureUnsupported);
  s->synchronize();
  return fail(take_launch_error());
}

cudaError_t cudaDeviceSynchronize() {
  synchronize_all();
  return fail(take_launch_error());
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* out, unsigned flags) {
  if (!out) return fail(cudaErrorInvalidValue);
  auto* e = new Event;
  e->flags = flags;
  *out = reinterpret_cast<cudaEvent_t>(e);
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* out) { return api::cudaEventCreateWithFlags(out, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  auto* e = reinterpret_cast<Event*>(event);
  {  // a record still queued on a stream completes first (the real runtime defers the release likewise)
    std::unique_lock<std::mutex> lock(e->m);
    e->cv.wait(lock, [&] { return e->completed >= e->recorded || e->captured; });
  }
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Stream* s = resolve(stream);
  if (!s || !event) return fail(cudaErrorInvalidResourceHandle);
  auto* e = reinterpret_cast<Event*>(event);
  if (s->capture) {  // becomes an edge of the captured graph
    e->captured = s->capture;
    e->captured_tail = s->tail;
    return cudaSuccess;
  }
  return submit_record(*e, s);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  Stream* s = resolve(stream);
  if (!s || !event) return fail(cudaErrorInvalidResourceHandle);
  auto* e = reinterpret_cast<Event*>(event);
  if (e->captured) {  // a fork or join inside a capture: the stream joins it and depends on the record's nodes
    Capture* c = e->captured;
    if (s->capture && s->capture != c) return fail(cudaErrorStreamCaptureIsolation);
    if (!s->capture) {
      s->capture = c;
      s->tail.clear();
      c->members.push_back(s);
    }
    for (int n : e->captured_tail)
      if (std::find(s->tail.begin(), s->tail.end(), n) == s->tail.end()) s->tail.push_back(n);
    return cudaSuccess;
  }
  if (s->capture) return fail(cudaErrorStreamCaptureIsolation);  // an event recorded outside the capture
  return submit_wait(*e, s);
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle);
  auto* e = reinterpret_cast<Event*>(event);
  {
    std::unique_lock<std::mutex> lock(e->m);
    const std::uint64_t target = e->recorded;
    e->cv.wait(lock, [&] { return e->completed >= target; });
  }
  tsan::acquire(e->sync.p);
  return fail(take_launch_error());
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !start || !end) return fail(cudaErrorInvalidValue);
  auto* a = reinterpret_cast<Event*>(start);
  auto* b = reinterpret_cast<Event*>(end);
  if ((a->flags | b->flags) & cudaEventDisableTiming) return fail(cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> la(a->m);
  std::lock_guard<std::mutex> lb(b->m);
  if (a->recorded == 0 || b->recorded == 0 || a->completed < a->recorded || b->completed < b->recorded)
    return fail(cudaErrorNotReady);
  *ms = std::chrono::duration<float, std::milli>(b->time - a->time).count();
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  Stream* s = resolve(stream);
  if (!s) return fail(cudaErrorInvalidResourceHandle);
  if (s->legacy || s->capture) return fail(cudaErrorStreamCaptureUnsupported);
  auto* c = new Capture;
  c->origin = s;
  c->members.push_back(s);
  s->capture = c;
  s->tail.clear();
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  Stream* s = resolve(stream);
  if (!s || !graph) return fail(cudaErrorInvalidValue);
  Capture* c = s->capture;
  if (!c || c->origin != s) return fail(cudaErrorIllegalState);
  std::unique_ptr<Capture> owned(c);
  for (Stream* m : c->members) m->capture = nullptr;
  *graph = nullptr;
  if (c->invalidated) return fail(cudaErrorStreamCaptureInvalidated);
  // Every node must precede the origin's last operations: a forked stream must have been joined back.
  std::vector<char> reaches(c->nodes.size(), 0);
  for (int n : s->tail) reaches[static_cast<size_t>(n)] = 1;
  for (size_t i = c->nodes.size(); i-- > 0;)
    if (reaches[i])
      for (int d : c->nodes[i].deps) reaches[static_cast<size_t>(d)] = 1;
  for (size_t i = 0; i < c->nodes.size(); ++i) {
    if (!reaches[i]) {
      report("stream capture", "cudaStreamEndCapture",
             "cudaStreamEndCapture: an operation captured on " + c->nodes[i].stream->name +
                 " is not joined back into the origin stream (record an event there and wait for it on the origin)");
      return fail(cudaErrorStreamCaptureUnjoined);
    }
  }
  auto* g = new Graph;
  g->nodes = std::move(c->nodes);
  *graph = reinterpret_cast<cudaGraph_t>(g);
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete reinterpret_cast<Graph*>(graph);
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* out, cudaGraph_t graph, unsigned long long) {
  if (!out || !graph) return fail(cudaErrorInvalidValue);
  const Graph& g = *reinterpret_cast<Graph*>(graph);
  auto* x = new GraphExec;
  x->nodes = g.nodes;
  std::vector<Stream*> origin;  // one lane per captured stream, so branches stay concurrent
  for (const Node& n : x->nodes) {
    auto it = std::find(origin.begin(), origin.end(), n.stream);
    if (it == origin.end()) {
      origin.push_back(n.stream);
      x->lanes.push_back(std::make_unique<Stream>(cudaStreamNonBlocking, false, "graph lane " + std::to_string(origin.size())));
      x->lane_end.push_back(std::make_unique<Event>());
      it = origin.end() - 1;
    }
    x->lane.push_back(static_cast<int>(it - origin.begin()));
  }
  x->needed_elsewhere.assign(x->nodes.size(), 0);
  for (size_t i = 0; i < x->nodes.size(); ++i) {
    x->node_done.push_back(std::make_unique<Event>());
    for (int d : x->nodes[i].deps)
      if (x->lane[static_cast<size_t>(d)] != x->lane[i]) x->needed_elsewhere[static_cast<size_t>(d)] = 1;
  }
  *out = reinterpret_cast<cudaGraphExec_t>(x);
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  Stream* s = resolve(stream);
  if (!s || !exec) return fail(cudaErrorInvalidResourceHandle);
  if (s->capture) return fail(cudaErrorStreamCaptureUnsupported);
  GraphExec& x = *reinterpret_cast<GraphExec*>(exec);
  submit_record(x.start, s);
  for (auto& lane : x.lanes) submit_wait(x.start, lane.get());
  for (size_t i = 0; i < x.nodes.size(); ++i) {
    Stream* lane = x.lanes[static_cast<size_t>(x.lane[i])].get();
    for (int d : x.nodes[i].deps)
      if (x.lane[static_cast<size_t>(d)] != x.lane[i]) submit_wait(*x.node_done[static_cast<size_t>(d)], lane);
    Op op = x.nodes[i].op;
    op.host.reset();
    enqueue(lane, std::move(op));
    if (x.needed_elsewhere[i]) submit_record(*x.node_done[i], lane);
  }
  for (size_t l = 0; l < x.lanes.size(); ++l) {
    submit_record(*x.lane_end[l], x.lanes[l].get());
    submit_wait(*x.lane_end[l], s);
  }
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete reinterpret_cast<GraphExec*>(exec);  // its lanes finish their work first
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* n) {
  if (!n) return fail(cudaErrorInvalidValue);
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }
cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!p) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "y26 emulator (sm_90, %d SMs, H100-like)", kSms);
  p->major = 9, p->minor = 0;
  p->multiProcessorCount = kSms;
  p->totalGlobalMem = kTotalMemory;
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = 227 * 1024;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff, p->maxGridSize[1] = p->maxGridSize[2] = 65535;
  p->regsPerBlock = 65536;
  p->l2CacheSize = 50 * 1024 * 1024;
  p->memoryBusWidth = 5120;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return fail(cudaErrorInvalidValue);
  if (device != 0) return fail(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = kSms; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = 48 * 1024; break;
    default: return fail(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return t_last_error; }
const char* cudaGetErrorString(cudaError_t e) { return error_string(e); }
const char* cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaError (y26 emu)"; }

}  // namespace api
}  // namespace y26::emu
