// The emulator's reports: one line each, naming the check, the kernel, the block and the thread(s),
// printed to stderr (like compute-sanitizer) unless a QuietReports is alive, and kept for take_reports().
// A failed check inside a kernel also makes the launch fail: the next synchronising call returns
// cudaErrorLaunchFailure, and cudaGetErrorString says why.
#include <cstdarg>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>

#include "emu/src/internal.h"

namespace y26::emu {
namespace {

constexpr int kMaxReportsPerCheck = 8;  // per (check, kernel); then one line says the rest were dropped

struct Reports {
  std::mutex m;
  std::vector<Report> kept;
  std::map<std::pair<std::string, std::string>, int> counts;
  int quiet = 0;
  cudaError_t pending = cudaSuccess;
  std::string pending_message;
  std::string error_text;  // what cudaGetErrorString returned last for a launch failure
};
Reports& reports() {
  static Reports r;
  return r;
}

}  // namespace

unsigned long long seed() {
  static const unsigned long long s = [] {
    if (const char* e = std::getenv("Y26_EMU_SEED")) return std::strtoull(e, nullptr, 10);
    return static_cast<unsigned long long>(std::random_device{}()) << 20 ^ static_cast<unsigned long long>(std::random_device{}());
  }();
  return s;
}

void report(const std::string& check, const std::string& kernel, const std::string& message) {
  Reports& r = reports();
  std::lock_guard<std::mutex> lock(r.m);
  const int n = ++r.counts[{check, kernel}];
  if (n > kMaxReportsPerCheck + 1) return;
  std::string line = "y26 emu: " + check + ": " + message + " [Y26_EMU_SEED=" + std::to_string(seed()) + "]";
  if (n == kMaxReportsPerCheck + 1) line = "y26 emu: " + check + ": further reports for " + kernel + " dropped";
  r.kept.push_back({check, kernel, line});
  if (r.quiet == 0) std::fprintf(stderr, "%s\n", line.c_str());
  if (r.pending == cudaSuccess) {
    r.pending = check == "out of bounds" ? cudaErrorIllegalAddress : cudaErrorLaunchFailure;
    r.pending_message = line;
  }
}

void device_error(const char* check, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  report(check, current_kernel_name(), describe_current_thread() + ": " + buf);
}

std::vector<Report> take_reports() {
  flush_sanitizer_reports();
  Reports& r = reports();
  std::lock_guard<std::mutex> lock(r.m);
  std::vector<Report> out;
  out.swap(r.kept);
  r.counts.clear();
  return out;
}

QuietReports::QuietReports() {
  std::lock_guard<std::mutex> lock(reports().m);
  ++reports().quiet;
}
QuietReports::~QuietReports() {
  std::lock_guard<std::mutex> lock(reports().m);
  --reports().quiet;
}

cudaError_t take_launch_error() {
  Reports& r = reports();
  std::lock_guard<std::mutex> lock(r.m);
  const cudaError_t e = r.pending;
  if (e != cudaSuccess) r.error_text = r.pending_message;
  r.pending = cudaSuccess;
  return e;
}

const char* error_string(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureUnjoined: return "capture was not joined back into the origin stream";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure: {
      Reports& r = reports();
      std::lock_guard<std::mutex> lock(r.m);
      static thread_local std::string text;
      text = std::string(e == cudaErrorIllegalAddress ? "an illegal memory access was encountered" : "unspecified launch failure") +
             (r.error_text.empty() ? "" : " (" + r.error_text + ")");
      return text.c_str();
    }
    default: return "unknown error (y26 emu)";
  }
}

}  // namespace y26::emu
