// What ThreadSanitizer and AddressSanitizer find inside emulated kernels becomes an emulator report:
// one line naming the check, the kernel, the block and the thread(s), and the launch fails.
// TSan: every emulated thread's fiber carries its name ("conv_igemm_kernel block (3,0,0) thread (5,0,0)");
// __tsan_on_report copies the race's two accesses out (it runs inside TSan's reporter, so it only copies),
// and the emulator turns them into reports when the grid ends. ASan: kernels are compiled with
// -fsanitize-recover=address and the run does not halt, so the faulting emulated thread itself reports.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "emu/src/internal.h"

#ifdef Y26_EMU_TSAN
namespace y26::emu {
namespace {

constexpr int kName = 160;
struct RaceAccess {
  char thread[kName];
  void* addr;
  int size, write;
};
struct RaceRecord {
  RaceAccess access[2];
  int accesses;
};
constexpr int kMaxPending = 64;
RaceRecord g_pending[kMaxPending];
std::atomic<int> g_claimed{0}, g_ready{0}, g_dropped{0};

void copy_name(char* dst, const char* src) {
  int i = 0;
  for (; src && src[i] && i < kName - 1; ++i) dst[i] = src[i];
  dst[i] = 0;
}

}  // namespace
}  // namespace y26::emu

extern "C" {
int __tsan_get_report_data(void* report, const char** description, int* count, int* stack_count, int* mop_count,
                           int* loc_count, int* mutex_count, int* thread_count, int* unique_tid_count, void** sleep_trace,
                           unsigned long trace_size);
int __tsan_get_report_mop(void* report, unsigned long idx, int* tid, void** addr, int* size, int* write, int* atomic,
                          void** trace, unsigned long trace_size);
int __tsan_get_report_thread(void* report, unsigned long idx, int* tid, unsigned long long* os_id, int* running,
                             const char** name, int* parent_tid, void** trace, unsigned long trace_size);

// Called by TSan for every report it prints (the printed report has the two stacks).
void __tsan_on_report(void* report) {
  using namespace y26::emu;
  const char* description = nullptr;
  int count = 0, stacks = 0, mops = 0, locs = 0, mutexes = 0, threads = 0, unique = 0;
  void* sleep = nullptr;
  if (!__tsan_get_report_data(report, &description, &count, &stacks, &mops, &locs, &mutexes, &threads, &unique, &sleep, 1))
    return;
  if (!description || std::strncmp(description, "data-race", 9) != 0) return;
  const int slot = g_claimed.fetch_add(1);
  if (slot >= kMaxPending) {
    g_dropped.fetch_add(1);
    return;
  }
  RaceRecord& r = g_pending[slot];
  r.accesses = 0;
  for (int m = 0; m < mops && m < 2; ++m) {
    int tid = -1, size = 0, write = 0, atomic = 0;
    void* addr = nullptr;
    void* trace[1];
    if (!__tsan_get_report_mop(report, static_cast<unsigned long>(m), &tid, &addr, &size, &write, &atomic, trace, 1)) continue;
    RaceAccess& a = r.access[r.accesses++];
    a.addr = addr, a.size = size, a.write = write;
    copy_name(a.thread, "a host thread");
    for (int t = 0; t < threads; ++t) {
      int ttid = -1, running = 0, parent = 0;
      unsigned long long os = 0;
      const char* name = nullptr;
      if (__tsan_get_report_thread(report, static_cast<unsigned long>(t), &ttid, &os, &running, &name, &parent, trace, 1) &&
          ttid == tid && name && name[0])
        copy_name(a.thread, name);
    }
  }
  g_ready.fetch_add(1);
}
}  // extern "C"

namespace y26::emu {

void flush_sanitizer_reports() {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  const int claimed = std::min(g_claimed.load(), kMaxPending);
  if (claimed == 0 || g_ready.load() < claimed) return;
  for (int i = 0; i < claimed; ++i) {
    const RaceRecord& r = g_pending[i];
    if (r.accesses < 2) continue;
    const RaceAccess &now = r.access[0], &before = r.access[1];
    const bool device = range_in_allocation(now.addr, static_cast<std::size_t>(now.size), nullptr);
    char where[64];
    std::snprintf(where, sizeof where, "%p", now.addr);
    const std::string what = std::string(now.thread) + (now.write ? " writes " : " reads ") + std::to_string(now.size) +
                             " bytes at " + where + (device ? " (device memory)" : "") + " that " + before.thread +
                             (before.write ? " wrote" : " read") +
                             " with no barrier, event or stream order between them (ThreadSanitizer's report above)";
    const std::string name(now.thread);
    report(device ? "device-memory race" : "shared-memory race", name.substr(0, name.find(' ')), what);
  }
  if (g_dropped.load() > 0) report("race", "kernels", std::to_string(g_dropped.load()) + " further races not listed");
  g_dropped = 0;
  g_ready = 0;
  g_claimed = 0;
}

}  // namespace y26::emu

#elif defined(Y26_EMU_ASAN)

namespace {

void on_asan_report(const char* text) {
  using namespace y26::emu;
  // the first line: "ERROR: AddressSanitizer: heap-buffer-overflow on address ... READ of size 4 ..."
  std::string first(text);
  const auto start = first.find("ERROR: AddressSanitizer: ");
  if (start != std::string::npos) first = first.substr(start + 25);
  first = first.substr(0, first.find('\n'));
  report("out of bounds", current_kernel_name(), describe_current_thread() + ": " + first + " (AddressSanitizer's report above)");
}

struct Install {
  Install() { __asan_set_error_report_callback(on_asan_report); }
} g_install;

}  // namespace

// A kernel's bad access is reported and its launch fails; the program goes on (kernels are compiled with
// -fsanitize-recover=address; the rest of y26 is not, and still stops at its first error).
extern "C" const char* __asan_default_options() { return "halt_on_error=0"; }

namespace y26::emu {
void flush_sanitizer_reports() {}
}  // namespace y26::emu

#else

namespace y26::emu {
void flush_sanitizer_reports() {}
}  // namespace y26::emu

#endif
