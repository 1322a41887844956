// What the emulator's own files share: sanitizer annotations, reports, the device's bookkeeping.
// These files are compiled without ThreadSanitizer instrumentation (emu/CMakeLists.txt): the scheduler's
// bookkeeping is not the kernels' business, and what the runtime moves on the kernels' behalf (copies,
// memsets) is announced to the sanitizer explicitly.
#pragma once

#define Y26_EMU_INTERNAL 1
#include "emu/device.h"
#include "emu/runtime.h"

#include <cstdint>
#include <string>

// Y26_EMU_TSAN comes from the build (emu/CMakeLists.txt): these files are not instrumented themselves, so
// __SANITIZE_THREAD__ is not defined here while the kernels' files are.
#ifdef Y26_EMU_TSAN
#include <sanitizer/tsan_interface.h>
extern "C" {  // exported by libtsan, not declared in GCC 12's header
void __tsan_read_range(void* addr, unsigned long size);
void __tsan_write_range(void* addr, unsigned long size);
}
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define Y26_EMU_ASAN 1
#endif

namespace y26::emu {

// ThreadSanitizer's view of the emulated device: every emulated thread and every stream's timeline is a
// TSan fiber, barriers, events and stream order are release/acquire pairs on sync objects.
namespace tsan {
#ifdef Y26_EMU_TSAN
inline void* create(const char* name) {
  void* f = __tsan_create_fiber(0);
  __tsan_set_fiber_name(f, name);
  return f;
}
inline void* current() { return __tsan_get_current_fiber(); }
inline void switch_to(void* f) { __tsan_switch_to_fiber(f, __tsan_switch_to_fiber_no_sync); }
inline void name(void* f, const char* n) { __tsan_set_fiber_name(f, n); }
inline void release(void* sync) { __tsan_release(sync); }
inline void acquire(void* sync) { __tsan_acquire(sync); }
inline void read_range(const void* p, std::size_t n) { __tsan_read_range(const_cast<void*>(p), n); }
inline void write_range(void* p, std::size_t n) { __tsan_write_range(p, n); }
inline constexpr bool on = true;
#else
inline void* create(const char*) { return nullptr; }
inline void* current() { return nullptr; }
inline void switch_to(void*) {}
inline void name(void*, const char*) {}
inline void release(void*) {}
inline void acquire(void*) {}
inline void read_range(const void*, std::size_t) {}
inline void write_range(void*, std::size_t) {}
inline constexpr bool on = false;
#endif
}  // namespace tsan

// A heap object whose only use is its address as a TSan sync object (freed, TSan forgets it).
struct SyncToken {
  SyncToken() : p(new char) {}
  ~SyncToken() { delete p; }
  SyncToken(const SyncToken&) = delete;
  SyncToken& operator=(const SyncToken&) = delete;
  char* p;
};

// Reports (report.cpp). `where`: "kernel K block (x,y,z) thread (x,y,z)" or a runtime call.
void report(const std::string& check, const std::string& kernel, const std::string& message);
std::string describe_current_thread();  // the emulated thread running here, for a report
const std::string& current_kernel_name();
// Turns what ThreadSanitizer found since the last call into reports (sanitizer_reports.cpp).
void flush_sanitizer_reports();

// The error the next synchronising call returns after a failed check (report() sets it), its message
// kept for cudaGetErrorString.
cudaError_t take_launch_error();
const char* error_string(cudaError_t e);

// Device memory (memory.cpp).
enum class MemoryKind { Device, Pinned };
void* allocate(std::size_t bytes, MemoryKind kind);  // null when out of memory
bool release(void* p, MemoryKind kind);               // false: p is not such an allocation
bool range_in_allocation(const void* p, std::size_t bytes, MemoryKind* kind);
std::int64_t device_bytes_allocated();

// Grids (scheduler.cpp): run every block of a launch on the worker threads, return when all finished.
struct GridRun {
  const KernelLaunch* launch;
  std::uint64_t seed;
  void* start_sync;  // TSan: what the blocks acquire before running (the stream's order)
  void* early_sync;  // programmatic launch: what they acquire at start; start_sync at cudaGridDependencySynchronize
  void* done_sync;   // TSan: every thread releases it when it exits
};
void run_grid(GridRun& grid);

}  // namespace y26::emu
