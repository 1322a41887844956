// The emulator's checks catch real bugs: small purpose-written kernels, each with one planted bug, and the
// report the emulator must make about it (kernel, block, thread named). Compiled against the emulator
// only. Races need ThreadSanitizer and bad plain stores AddressSanitizer: those cases exist in the
// sanitizer builds CI runs (build-emu-tsan, build-emu-asan); the rest run everywhere.
#include <catch2/catch.hpp>
#include <cuda_pipeline_primitives.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/device_memory.h"

using namespace y26;
namespace kc = y26::kernels::cuda;

namespace {

// Runs `launch`, synchronises, and returns the reports made meanwhile (printed nowhere) and the error
// the synchronisation returned.
template <typename F>
std::vector<emu::Report> reports_of(F&& launch, cudaError_t* sync_error = nullptr) {
  emu::QuietReports quiet;
  emu::take_reports();
  launch();
  const cudaError_t e = cudaDeviceSynchronize();
  if (sync_error) *sync_error = e;
  return emu::take_reports();
}

bool has_report(const std::vector<emu::Report>& reports, const std::string& check, const std::string& text) {
  for (const auto& r : reports)
    if (r.check == check && r.message.find(text) != std::string::npos) return true;
  return false;
}

std::string all(const std::vector<emu::Report>& reports) {
  std::string s;
  for (const auto& r : reports) s += r.message + "\n";
  return s.empty() ? "(no reports)" : s;
}

// ---- the planted bugs ----

__global__ void exits_before_barrier(int* out) {
  if (threadIdx.x >= 16) return;  // threads 16.. leave while 0..15 wait
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void two_barriers(int* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();  // another barrier than the even threads'
  }
  out[threadIdx.x] = 1;
}

__global__ void shuffle_with_exited_lanes(int* out) {
  if (threadIdx.x % 32 >= 16) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x), 0);  // names lanes 16..31
}

// cp.async with a wait one group too lax: the data has not landed when the block reads it.
__global__ void lax_cp_async_wait(const unsigned short* in, unsigned short* out) {
  __shared__ __align__(16) unsigned short s[32 * 8];
  const int t = static_cast<int>(threadIdx.x);
  __pipeline_memcpy_async(s + 8 * t, in + 8 * t, 16);
  __pipeline_commit();
  __pipeline_wait_prior(1);  // the bug: 0 is what makes the one group land
  __syncthreads();
  for (int i = 0; i < 8; ++i) out[8 * t + i] = s[8 * ((t + 1) % 32) + i];
}

__global__ void cp_async_past_the_end(const unsigned short* in, unsigned short* out, int n) {
  __shared__ __align__(16) unsigned short s[8];
  if (threadIdx.x == 0) {
    __pipeline_memcpy_async(s, in + n, 16);  // the 8 halfs after the last one
    __pipeline_commit();
    __pipeline_wait_prior(0);
    out[0] = s[0];
  }
}

#ifndef __SANITIZE_THREAD__
// Only block 0 writes the shared array; the other blocks read what no thread of theirs wrote.
__global__ void reads_unwritten_shared(const int* in, int* out) {
  __shared__ int s[64];
  if (blockIdx.x == 0) s[threadIdx.x] = in[threadIdx.x];
  __syncthreads();
  out[blockIdx.x * 64 + threadIdx.x] = s[threadIdx.x];
}
#endif

__global__ void reads_unwritten(const float* never_written, float* out) {
  out[threadIdx.x] = never_written[threadIdx.x] + 1.0f;
}

#ifdef __SANITIZE_THREAD__
__global__ void missing_barrier(const int* in, int* out) {
  __shared__ int s[64];
  s[threadIdx.x] = in[threadIdx.x];
  // the bug: no __syncthreads() before reading a neighbour's element
  out[threadIdx.x] = s[(threadIdx.x + 1) % 64];
}

__global__ void shared_write_race(int* out) {
  __shared__ int winner;
  winner = static_cast<int>(threadIdx.x);  // every thread writes the same word between two barriers
  __syncthreads();
  out[threadIdx.x] = winner;
}

__global__ void writes_buffer(int* buf, int v) { buf[blockIdx.x * blockDim.x + threadIdx.x] = v; }
__global__ void reads_buffer(const int* buf, int* out) {
  out[blockIdx.x * blockDim.x + threadIdx.x] = buf[blockIdx.x * blockDim.x + threadIdx.x] + 1;
}
#endif

#ifdef __SANITIZE_ADDRESS__
__global__ void writes_past_the_end(int* out, int n) {
  if (threadIdx.x == 0) out[n] = 7;  // one int after the allocation
}
#endif

}  // namespace

TEST_CASE("The emulator reports threads that exit while others wait at a barrier [emu]", "[emu][emu-checks]") {
  kc::DeviceBuffer out(64 * 4);
  cudaError_t e = cudaSuccess;
  const auto r = reports_of([&] { kc::launch_kernel("exits_before_barrier", exits_before_barrier, 2, 64, nullptr, out.as<int>()); }, &e);
  INFO(all(r));
  CHECK(has_report(r, "barrier divergence", "exits_before_barrier block (0,0,0)"));
  CHECK(has_report(r, "barrier divergence", "threads exited"));
  CHECK(e == cudaErrorLaunchFailure);
}

TEST_CASE("The emulator reports threads of a block at different barriers [emu]", "[emu][emu-checks]") {
  kc::DeviceBuffer out(64 * 4);
  const auto r = reports_of([&] { kc::launch_kernel("two_barriers", two_barriers, 1, 64, nullptr, out.as<int>()); });
  INFO(all(r));
  CHECK(has_report(r, "barrier divergence", "two_barriers block (0,0,0)"));
  CHECK(has_report(r, "barrier divergence", "test_emu_checks.cpp"));  // both barriers' places in the source
}

TEST_CASE("The emulator reports a warp collective whose mask names lanes that exited [emu]", "[emu][emu-checks]") {
  kc::DeviceBuffer out(64 * 4);
  const auto r = reports_of([&] { kc::launch_kernel("shuffle_with_exited_lanes", shuffle_with_exited_lanes, 1, 64, nullptr, out.as<int>()); });
  INFO(all(r));
  CHECK(has_report(r, "warp collective mask", "shuffle_with_exited_lanes block (0,0,0)"));
  CHECK(has_report(r, "warp collective mask", "which has exited"));
}

TEST_CASE("A cp.async wait one group too lax reads the poison, never the data [emu]", "[emu][emu-checks]") {
  std::vector<unsigned short> host(32 * 8);
  for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<unsigned short>(0x3c00 + i);  // 1.0, 1.0009, ...
  kc::DeviceBuffer in(host.size() * 2), out(host.size() * 2);
  in.upload(host.data(), host.size() * 2);
  out.fill(0);
  const auto r = reports_of([&] {
    kc::launch_kernel("lax_cp_async_wait", lax_cp_async_wait, 1, 32, nullptr, in.as<unsigned short>(), out.as<unsigned short>());
  });
  std::vector<unsigned short> got(host.size());
  out.download(got.data(), got.size() * 2);
  size_t poisoned = 0;
  for (unsigned short v : got) poisoned += v == 0xFFFF;  // FP16 NaN: the emulator's poison
  CHECK(poisoned == got.size());
  INFO(all(r));
  // copies no wait covered never land, and the threads that issued them are reported
  CHECK(has_report(r, "cp.async", "lax_cp_async_wait block (0,0,0)"));
}

TEST_CASE("The emulator reports a cp.async that reads past its allocation [emu]", "[emu][emu-checks]") {
  kc::DeviceBuffer in(64 * 2), out(2);
  in.fill(0);
  cudaError_t e = cudaSuccess;
  const auto r = reports_of([&] {
    kc::launch_kernel("cp_async_past_the_end", cp_async_past_the_end, 1, 32, nullptr, in.as<unsigned short>(),
                      out.as<unsigned short>(), 64);
  }, &e);
  INFO(all(r));
  CHECK(has_report(r, "out of bounds", "cp_async_past_the_end block (0,0,0) thread (0,0,0)"));
  CHECK(e == cudaErrorIllegalAddress);
}

TEST_CASE("The emulator reports copies and memsets outside a device allocation [emu]", "[emu][emu-checks]") {
  kc::DeviceBuffer buf(256);
  std::vector<char> host(512, 1);
  emu::QuietReports quiet;
  emu::take_reports();
  CHECK(cudaMemcpy(buf.get(), host.data(), 512, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaMemset(buf.as<char>() + 200, 0, 100) == cudaErrorInvalidValue);
  const auto r = emu::take_reports();
  INFO(all(r));
  CHECK(has_report(r, "out of bounds", "cudaMemcpy writes device memory"));
  CHECK(has_report(r, "out of bounds", "cudaMemset writes"));
}

TEST_CASE("Device memory nobody wrote reads as the poison pattern [emu]", "[emu][emu-checks]") {
  kc::DeviceBuffer never(32 * 4), out(32 * 4);
  out.fill(0);
  const auto r = reports_of([&] { kc::launch_kernel("reads_unwritten", reads_unwritten, 1, 32, nullptr, never.as<float>(), out.as<float>()); });
  std::vector<float> got(32);
  out.download(got.data(), got.size() * 4);
  for (float v : got) CHECK(v != v);  // NaN in, NaN out: the kernel's result carries the poison
}

#ifndef __SANITIZE_THREAD__  // there the poison fill would be a racing write, so it is not done
TEST_CASE("Shared memory no thread of the block wrote reads as the poison pattern [emu]", "[emu][emu-checks]") {
  std::vector<int> host(64, 5);
  kc::DeviceBuffer in(64 * 4), out(8 * 64 * 4);
  in.upload(host.data(), 64 * 4);
  reports_of([&] { kc::launch_kernel("reads_unwritten_shared", reads_unwritten_shared, 8, 64, nullptr, in.as<int>(), out.as<int>()); });
  std::vector<int> got(8 * 64);
  out.download(got.data(), got.size() * 4);
  for (int i = 0; i < 64; ++i) CHECK(got[static_cast<size_t>(i)] == 5);
  size_t poisoned = 0;  // blocks 1..7, whichever worker ran them after whichever block: never block 0's 5
  for (size_t i = 64; i < got.size(); ++i) poisoned += got[i] == -1;  // 0xFFFFFFFF
  CHECK(poisoned == got.size() - 64);
}
#endif

#ifdef __SANITIZE_THREAD__
TEST_CASE("ThreadSanitizer through the emulator reports a missing barrier [emu]", "[emu][emu-checks][tsan]") {
  std::vector<int> host(64, 3);
  kc::DeviceBuffer in(64 * 4), out(64 * 4);
  in.upload(host.data(), 64 * 4);
  const auto r = reports_of([&] { kc::launch_kernel("missing_barrier", missing_barrier, 1, 64, nullptr, in.as<int>(), out.as<int>()); });
  INFO(all(r));
  CHECK(has_report(r, "shared-memory race", "missing_barrier block (0,0,0) thread"));
}

TEST_CASE("ThreadSanitizer through the emulator reports threads writing one shared word [emu]", "[emu][emu-checks][tsan]") {
  kc::DeviceBuffer out(64 * 4);
  const auto r = reports_of([&] { kc::launch_kernel("shared_write_race", shared_write_race, 1, 64, nullptr, out.as<int>()); });
  INFO(all(r));
  CHECK(has_report(r, "shared-memory race", "shared_write_race block (0,0,0) thread"));
}

TEST_CASE("ThreadSanitizer through the emulator reports two streams without an event between them [emu]", "[emu][emu-checks][tsan]") {
  kc::DeviceBuffer buf(4096 * 4), out(4096 * 4);
  cudaStream_t a = nullptr, b = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking) == cudaSuccess);
  REQUIRE(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking) == cudaSuccess);
  const auto racy = reports_of([&] {
    kc::launch_kernel("writes_buffer", writes_buffer, 16, 256, a, buf.as<int>(), 1);
    kc::launch_kernel("reads_buffer", reads_buffer, 16, 256, b, buf.as<const int>(), out.as<int>());  // the bug: no event
  });
  INFO(all(racy));
  CHECK(has_report(racy, "device-memory race", "_buffer block"));
  // the same two kernels ordered by an event: nothing to report
  cudaEvent_t done = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess);
  const auto ordered = reports_of([&] {
    kc::launch_kernel("writes_buffer", writes_buffer, 16, 256, a, buf.as<int>(), 2);
    cudaEventRecord(done, a);
    cudaStreamWaitEvent(b, done, 0);
    kc::launch_kernel("reads_buffer", reads_buffer, 16, 256, b, buf.as<const int>(), out.as<int>());
  });
  CHECK(ordered.empty());
  cudaEventDestroy(done);
  cudaStreamDestroy(a);
  cudaStreamDestroy(b);
}
#endif

#ifdef __SANITIZE_ADDRESS__
TEST_CASE("AddressSanitizer through the emulator reports a store past a device allocation [emu]", "[emu][emu-checks][asan]") {
  kc::DeviceBuffer out(64 * 4);
  cudaError_t e = cudaSuccess;
  const auto r = reports_of([&] { kc::launch_kernel("writes_past_the_end", writes_past_the_end, 1, 32, nullptr, out.as<int>(), 64); }, &e);
  INFO(all(r));
  CHECK(has_report(r, "out of bounds", "writes_past_the_end block (0,0,0) thread (0,0,0)"));
  CHECK(has_report(r, "out of bounds", "heap-buffer-overflow"));
  CHECK(e != cudaSuccess);
}
#endif
