// The device side of the emulator: what a kernel sees while it runs as one emulated thread (a fiber of
// a block, emu/src/scheduler.cpp). threadIdx and friends, __syncthreads, warp collectives, atomics,
// cp.async through CUDA's pipeline primitives, programmatic-launch control and the arithmetic
// intrinsics y26's kernels use. Everything here is inline and compiled into the kernels' own
// translation units, so the sanitizers see each access as the kernel's (ThreadSanitizer: races between
// emulated threads; AddressSanitizer: bounds).
#pragma once

#include <vector_functions.h>
#include <vector_types.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

namespace y26::emu {

struct Block;
struct Fiber;

// One pending cp.async: its bytes were read when it was issued; they land in `dst` when a wait covers
// its group. Until then `dst` holds the poison pattern.
struct AsyncCopy {
  void* dst;
  unsigned char bytes[16];
  int size;
};
inline constexpr int kMaxAsyncCopies = 64;  // per thread, committed or not (y26's conv ring has at most 3 x 8)

enum class WarpOp : std::uint8_t { Shfl, ShflXor, ShflUp, ShflDown, Ballot, MatchAny, Any, All, SyncWarp, Mma };

// An emulated thread: its indices, and where it is parked when it is not running.
struct ThreadState {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
  int linear = 0, warp = 0, lane = 0;
  // scheduler state (emu/src/scheduler.cpp)
  std::uint8_t state = 0;
  std::source_location site;  // the __syncthreads or warp collective it waits at
  Block* block = nullptr;
  Fiber* fiber = nullptr;
  // a warp collective: operands in, result out
  WarpOp op = WarpOp::Shfl;
  unsigned mask = 0;
  int arg = 0, width = 32;
  std::uint64_t value = 0, result = 0;
  const void* mma[4] = {};  // d, a, b, c fragments (Mma)
  void (*mma_fn)(ThreadState* const* lanes) = nullptr;
  // cp.async: copies[first_copy, num_copies) are pending, the committed ones in groups
  // [first_group, num_groups); group_end[g] is the end of group g's copies
  AsyncCopy copies[kMaxAsyncCopies];
  int num_copies = 0;
  int group_end[kMaxAsyncCopies];
  int num_groups = 0, first_group = 0, first_copy = 0;
  bool grid_dependency_waited = false;
};

extern thread_local ThreadState* t_current;  // the emulated thread running on this host thread

// Scheduler entry points (emu/src/scheduler.cpp); each parks the calling emulated thread.
// `site`: where in the kernel's source the call is (optimised code may duplicate a call; its source
// location stays one).
void syncthreads_at(const std::source_location& site);
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width,
                              const std::source_location& site);
void grid_dependency_synchronize();
// Checks (emu/src/report.cpp): one report naming the kernel, block and thread.
void device_error(const char* check, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// True when [p, p + bytes) lies inside one device or pinned allocation (emu/src/memory.cpp).
bool device_range_ok(const void* p, std::size_t bytes);
// Called after each __shared__ declaration (emu/tools/shared_rewrite.cpp): the first thread of a block to
// get there fills the variable with the poison pattern, so a read of what no thread of this block wrote
// sees NaN rather than the previous block's values.
void shared_touch(void* p, std::size_t bytes);

inline constexpr unsigned char kPoisonByte = 0xFF;  // FP16 and FP32 NaN in every lane of every type

template <typename T>
std::uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>);
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <typename T>
T from_bits(std::uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace y26::emu

// ---- what kernels name: the running emulated thread's indices, set by the scheduler at every switch ----
extern thread_local uint3 threadIdx, blockIdx;
extern thread_local dim3 blockDim, gridDim;
inline constexpr int warpSize = 32;

// The default argument is evaluated at the call: the barrier's place in the kernel's source.
inline void __syncthreads(std::source_location site = std::source_location::current()) { ::y26::emu::syncthreads_at(site); }
inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location site = std::source_location::current()) {
  ::y26::emu::warp_collective(::y26::emu::WarpOp::SyncWarp, mask, 0, 0, 32, site);
}

#define Y26_EMU_SHUFFLE(NAME, OP)                                                                               \
  template <typename T>                                                                                         \
  T NAME(unsigned mask, T v, int arg, int width = 32, std::source_location site = std::source_location::current()) { \
    return ::y26::emu::from_bits<T>(                                                                            \
        ::y26::emu::warp_collective(::y26::emu::WarpOp::OP, mask, ::y26::emu::to_bits(v), arg, width, site));   \
  }
Y26_EMU_SHUFFLE(__shfl_sync, Shfl)
Y26_EMU_SHUFFLE(__shfl_xor_sync, ShflXor)
Y26_EMU_SHUFFLE(__shfl_up_sync, ShflUp)
Y26_EMU_SHUFFLE(__shfl_down_sync, ShflDown)
#undef Y26_EMU_SHUFFLE

inline unsigned __ballot_sync(unsigned mask, int pred, std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(::y26::emu::warp_collective(::y26::emu::WarpOp::Ballot, mask, pred != 0, 0, 32, site));
}
inline int __any_sync(unsigned mask, int pred, std::source_location site = std::source_location::current()) {
  return static_cast<int>(::y26::emu::warp_collective(::y26::emu::WarpOp::Any, mask, pred != 0, 0, 32, site));
}
inline int __all_sync(unsigned mask, int pred, std::source_location site = std::source_location::current()) {
  return static_cast<int>(::y26::emu::warp_collective(::y26::emu::WarpOp::All, mask, pred != 0, 0, 32, site));
}
template <typename T>
unsigned __match_any_sync(unsigned mask, T v, std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(
      ::y26::emu::warp_collective(::y26::emu::WarpOp::MatchAny, mask, ::y26::emu::to_bits(v), 0, 32, site));
}

// ---- atomics and fences: real host atomics, so blocks running on different host threads agree ----
template <typename T>
T atomicAdd(T* p, T v) {
  if constexpr (std::is_integral_v<T>) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
  } else {  // float, double: a compare-and-swap loop on the bits
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    Bits* const b = reinterpret_cast<Bits*>(p);
    Bits old = __atomic_load_n(b, __ATOMIC_SEQ_CST);
    for (;;) {
      const Bits want = ::y26::emu::from_bits<Bits>(::y26::emu::to_bits(::y26::emu::from_bits<T>(old) + v));
      if (__atomic_compare_exchange_n(b, &old, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return ::y26::emu::from_bits<T>(old);
    }
  }
}
template <typename T>
T atomicMax(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
template <typename T>
T atomicExch(T* p, T v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
template <typename T>
T atomicCAS(T* p, T compare, T v) {
  __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;
}
// ThreadSanitizer does not model standalone fences; every atomic here is sequentially consistent, so the
// fence-then-atomic publication y26's kernels use (split-K) is ordered by the atomic itself.
#ifdef __SANITIZE_THREAD__
inline void __threadfence() {}
inline void __threadfence_block() {}
#else
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif
template <typename T>
T __ldcg(const T* p) {
  return *p;
}
template <typename T>
T __ldg(const T* p) {
  return *p;
}

// ---- integer and float intrinsics (the host compiler runs with -ffp-contract=off: no FMA contraction) ----
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }
inline unsigned __float_as_uint(float f) { return ::y26::emu::from_bits<unsigned>(::y26::emu::to_bits(f)); }
inline float __uint_as_float(unsigned u) { return ::y26::emu::from_bits<float>(u); }
inline int __float_as_int(float f) { return ::y26::emu::from_bits<int>(::y26::emu::to_bits(f)); }
inline float __int_as_float(int i) { return ::y26::emu::from_bits<float>(static_cast<unsigned>(i)); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }  // IEEE sqrt, correctly rounded, as the GPU's
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline int __float2int_rn(float f) { return static_cast<int>(std::nearbyint(f)); }
inline int __float2int_rz(float f) { return static_cast<int>(f); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// ---- programmatic dependent launch (sm_90): the wait is where a programmatically launched kernel may
// first touch what the kernel before it wrote (emu/src/streams.cpp orders it there, not before) ----
inline void cudaGridDependencySynchronize() { ::y26::emu::grid_dependency_synchronize(); }
inline void cudaTriggerProgrammaticLaunchCompletion() {}

// ---- cp.async through CUDA's pipeline primitives (cuda_pipeline_primitives.h) ----
namespace y26::emu {
// Lands the oldest committed groups until at most `keep` are still pending.
inline void land_async_copies(ThreadState* t, int keep) {
  while (t->num_groups - t->first_group > keep) {
    const int end = t->group_end[t->first_group++];
    for (; t->first_copy < end; ++t->first_copy) {
      const AsyncCopy& c = t->copies[t->first_copy];
      std::memcpy(c.dst, c.bytes, static_cast<std::size_t>(c.size));
    }
  }
  if (t->first_copy == t->num_copies && t->first_group == t->num_groups)
    t->first_copy = t->num_copies = t->first_group = t->num_groups = 0;
}
inline void make_room_for_async_copy(ThreadState* t) {
  if (t->num_copies < kMaxAsyncCopies && t->num_groups < kMaxAsyncCopies) return;
  const int shift = t->first_copy, gshift = t->first_group;  // compact what is still pending to the front
  for (int i = shift; i < t->num_copies; ++i) t->copies[i - shift] = t->copies[i];
  for (int g = gshift; g < t->num_groups; ++g) t->group_end[g - gshift] = t->group_end[g] - shift;
  t->num_copies -= shift, t->first_copy = 0, t->num_groups -= gshift, t->first_group = 0;
  if (t->num_copies == kMaxAsyncCopies || t->num_groups == kMaxAsyncCopies) {
    device_error("cp.async", "more than %d asynchronous copies or groups pending in one thread", kMaxAsyncCopies);
    land_async_copies(t, 0);
  }
}
}  // namespace y26::emu

// Copies size bytes (4, 8 or 16) global -> shared when a later __pipeline_wait_prior covers it; the last
// zfill bytes are zeros and are not read. Until then the destination holds the poison pattern, so a
// wait one group too lax reads NaN instead of passing by luck.
inline void __pipeline_memcpy_async(void* __restrict dst, const void* __restrict src, std::size_t size, std::size_t zfill = 0) {
  using namespace ::y26::emu;
  ThreadState* const t = t_current;
  if ((size != 4 && size != 8 && size != 16) || zfill > size) {
    device_error("cp.async", "size %zu with zero fill %zu (sizes are 4, 8 or 16)", size, zfill);
    return;
  }
  const std::size_t read = size - zfill;
  if (reinterpret_cast<std::uintptr_t>(dst) % size != 0 || (read > 0 && reinterpret_cast<std::uintptr_t>(src) % size != 0)) {
    device_error("misaligned cp.async", "%zu-byte copy from %p to %p: both must be %zu-byte aligned", size, src, dst, size);
    return;
  }
  if (read > 0 && !device_range_ok(src, read)) {
    device_error("out of bounds", "cp.async reads %zu bytes at %p, outside every device allocation", read, src);
    return;
  }
  make_room_for_async_copy(t);
  AsyncCopy& c = t->copies[t->num_copies++];
  c.dst = dst;
  c.size = static_cast<int>(size);
  std::memcpy(c.bytes, src, read);
  std::memset(c.bytes + read, 0, zfill);
  std::memset(dst, kPoisonByte, size);
}
inline void __pipeline_commit() {
  ::y26::emu::ThreadState* const t = ::y26::emu::t_current;
  ::y26::emu::make_room_for_async_copy(t);
  t->group_end[t->num_groups++] = t->num_copies;
}
inline void __pipeline_wait_prior(std::size_t prior) {
  ::y26::emu::land_async_copies(::y26::emu::t_current, static_cast<int>(prior));
}
