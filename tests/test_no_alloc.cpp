// The CPU executor allocates nothing while it runs: the fast kernels' packed weights and scratch are
// made with the executor, so a steady stream of inferences never touches the heap. The reference
// kernels' row buffers are per thread and kept (kernels/cpu/thread_buffer.h): none once each thread
// has met every layer's shape, which depends on how the pool hands out rows, so that is asserted on one
// thread, where it is certain after the first run. Counted by replacing the global operator new for this test binary (every std::vector,
// std::function or string the kernels or the thread pool could make goes through it), on all
// threads, while a run is in flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "graph/yolo26.h"
#include "loader/weight_map.h"
#include "memory/planner.h"
#include "runtime/cpu_executor.h"
#include "tests/support/fixtures.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// Replaceable allocation functions ([new.delete]): the sized, aligned and nothrow forms all end here or in
// the default forms that call these. Not inlined: GCC would otherwise see free() of what a new-expression
// returned (-Wmismatched-new-delete).
#define Y26_REPLACED __attribute__((noinline))
Y26_REPLACED void* operator new(std::size_t bytes) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(bytes ? bytes : 1)) return p;
  throw std::bad_alloc();
}
Y26_REPLACED void* operator new[](std::size_t bytes) { return operator new(bytes); }
Y26_REPLACED void* operator new(std::size_t bytes, std::align_val_t align) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (bytes + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
Y26_REPLACED void* operator new[](std::size_t bytes, std::align_val_t align) { return operator new(bytes, align); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): a sanitizer's own would
// otherwise allocate what ours frees.
Y26_REPLACED void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  try {
    return operator new(bytes);
  } catch (...) {
    return nullptr;
  }
}
Y26_REPLACED void* operator new[](std::size_t bytes, const std::nothrow_t& t) noexcept { return operator new(bytes, t); }
Y26_REPLACED void* operator new(std::size_t bytes, std::align_val_t align, const std::nothrow_t&) noexcept {
  try {
    return operator new(bytes, align);
  } catch (...) {
    return nullptr;
  }
}
Y26_REPLACED void* operator new[](std::size_t bytes, std::align_val_t align, const std::nothrow_t& t) noexcept {
  return operator new(bytes, align, t);
}
Y26_REPLACED void operator delete(void* p) noexcept { std::free(p); }
Y26_REPLACED void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
Y26_REPLACED void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
Y26_REPLACED void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
Y26_REPLACED void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
Y26_REPLACED void operator delete[](void* p) noexcept { std::free(p); }
Y26_REPLACED void operator delete(void* p, std::size_t) noexcept { std::free(p); }
Y26_REPLACED void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
Y26_REPLACED void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
Y26_REPLACED void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
Y26_REPLACED void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
Y26_REPLACED void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace y26;

TEST_CASE("the CPU executor allocates nothing inside run() (the reference set: after its first run, on one thread)", "[alloc]") {
  const WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  struct Way {
    bool end2end;
    runtime::CpuKernels kernels;
    unsigned threads;
  };
  for (const Way& way : {Way{true, runtime::CpuKernels::Fast, 2}, Way{false, runtime::CpuKernels::Fast, 2},
                         Way{true, runtime::CpuKernels::Reference, 1}}) {
    const bool end2end = way.end2end;
    const runtime::CpuKernels kernels = way.kernels;
    INFO((end2end ? "one-to-one head, " : "one-to-many head, ") << runtime::cpu_kernels_name(kernels) << " kernels, "
                                                                 << way.threads << " threads");
    const graph::Graph g = graph::build_yolo26(w, {160, 224, end2end});
    kernels::cpu::ThreadPool pool(way.threads);
    runtime::CpuExecutor e(g, memory::plan_memory(g, 2, memory::Strategy::GreedyBySize), pool, false, kernels);
    e.poison();
    const auto in = e.view(g.whole(g.input));
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (int b = 0; b < in.n; ++b)
      for (int y = 0; y < in.h; ++y)
        for (int x = 0; x < in.w; ++x)
          for (int c = 0; c < 3; ++c) in.pixel(b, y, x)[c] = u(rng);
    e.run();  // the first run: lazily made statics (ISA detection, the reference's row buffers), not counted
    allocations = 0;
    counting = true;
    e.run();
    counting = false;
    CHECK(allocations.load() == 0);
    // The counter counts: a vector made while counting is seen.
    counting = true;
    { std::vector<int> v(3); }
    counting = false;
    CHECK(allocations.load() == 1);
  }
}
