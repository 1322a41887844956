// The emulator's CUDA runtime: the subset y26's runtime and tests use, with the toolkit's own types
// (cudaError_t, cudaStream_t, cudaLaunchConfig_t, cudaDeviceProp, ...). A file compiled against the
// emulator includes this through emu/include/cuda_runtime_api.h; the macros at the end send its calls
// here, so the same source also builds against the real runtime. The emulated device is an H100-like
// sm_90 with 132 SMs; see emu/README.md for what is checked.
#pragma once

#include <cuda_runtime_api.h>  // the toolkit's (emu/include/ forwards here with #include_next)

#include <cstddef>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace y26::emu {

// A kernel launch as the emulator runs it: `body` runs the kernel once as the current emulated thread.
struct KernelLaunch {
  std::string name;
  dim3 grid, block;
  std::size_t dynamic_smem = 0;
  bool programmatic = false;  // cudaLaunchAttributeProgrammaticStreamSerialization
  std::function<void()> body;
};
cudaError_t launch(const cudaLaunchConfig_t& cfg, KernelLaunch launch);

// The name the emulator gives `kernel` in its reports (set by launch_named; else its address).
template <typename... Params, typename... Args>
cudaError_t launch_named(const char* name, const cudaLaunchConfig_t* cfg, void (*kernel)(Params...), Args&&... args) {
  if (cfg == nullptr) return cudaErrorInvalidValue;
  KernelLaunch k;
  k.name = name;
  std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  k.body = [kernel, params]() { std::apply(kernel, params); };
  return launch(*cfg, std::move(k));
}

// ---- what the checks found (emu/src/report.cpp) ----
struct Report {
  std::string check;    // "out of bounds", "shared-memory race", "barrier divergence", ...
  std::string kernel;   // the kernel, or the runtime call
  std::string message;  // one line: kernel, block, thread(s), what
};
// Reports since the last call, oldest first (tests of planted bugs read them).
std::vector<Report> take_reports();
// While one lives, reports are collected but not printed (tests that plant bugs on purpose).
struct QuietReports {
  QuietReports();
  ~QuietReports();
  QuietReports(const QuietReports&) = delete;
  QuietReports& operator=(const QuietReports&) = delete;
};
// The seed of this process's schedule (Y26_EMU_SEED, else drawn at start): printed with every report.
unsigned long long seed();
// Host threads that run blocks (Y26_EMU_WORKERS, else the machine's cores).
int workers();

namespace api {

template <typename... Params, typename... Args>
cudaError_t cudaLaunchKernelEx(const cudaLaunchConfig_t* cfg, void (*kernel)(Params...), Args&&... args) {
  return launch_named("kernel", cfg, kernel, std::forward<Args>(args)...);
}

cudaError_t cudaMalloc(void** p, std::size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocHost(void** p, std::size_t bytes);
cudaError_t cudaFreeHost(void* p);
template <typename T>
cudaError_t cudaMalloc(T** p, std::size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
template <typename T>
cudaError_t cudaMallocHost(T** p, std::size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(p), bytes);
}
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t s = nullptr);
cudaError_t cudaMemset(void* p, int value, std::size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t s = nullptr);
cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total);

cudaError_t cudaStreamCreate(cudaStream_t* s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags = 0);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph);

cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);

cudaError_t cudaGetDeviceCount(int* n);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize();

cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t e);
const char* cudaGetErrorName(cudaError_t e);

}  // namespace api
}  // namespace y26::emu

// Every runtime call of a file compiled against the emulator goes to it.
#ifndef Y26_EMU_INTERNAL
#define Y26_EMU_API(name) ::y26::emu::api::name
#define cudaLaunchKernelEx Y26_EMU_API(cudaLaunchKernelEx)
#define cudaMalloc Y26_EMU_API(cudaMalloc)
#define cudaFree Y26_EMU_API(cudaFree)
#define cudaMallocHost Y26_EMU_API(cudaMallocHost)
#define cudaFreeHost Y26_EMU_API(cudaFreeHost)
#define cudaMemcpy Y26_EMU_API(cudaMemcpy)
#define cudaMemcpyAsync Y26_EMU_API(cudaMemcpyAsync)
#define cudaMemset Y26_EMU_API(cudaMemset)
#define cudaMemsetAsync Y26_EMU_API(cudaMemsetAsync)
#define cudaMemGetInfo Y26_EMU_API(cudaMemGetInfo)
#define cudaStreamCreate Y26_EMU_API(cudaStreamCreate)
#define cudaStreamCreateWithFlags Y26_EMU_API(cudaStreamCreateWithFlags)
#define cudaStreamDestroy Y26_EMU_API(cudaStreamDestroy)
#define cudaStreamSynchronize Y26_EMU_API(cudaStreamSynchronize)
#define cudaStreamWaitEvent Y26_EMU_API(cudaStreamWaitEvent)
#define cudaStreamBeginCapture Y26_EMU_API(cudaStreamBeginCapture)
#define cudaStreamEndCapture Y26_EMU_API(cudaStreamEndCapture)
#define cudaEventCreate Y26_EMU_API(cudaEventCreate)
#define cudaEventCreateWithFlags Y26_EMU_API(cudaEventCreateWithFlags)
#define cudaEventDestroy Y26_EMU_API(cudaEventDestroy)
#define cudaEventRecord Y26_EMU_API(cudaEventRecord)
#define cudaEventSynchronize Y26_EMU_API(cudaEventSynchronize)
#define cudaEventElapsedTime Y26_EMU_API(cudaEventElapsedTime)
#define cudaGraphInstantiate Y26_EMU_API(cudaGraphInstantiate)
#define cudaGraphLaunch Y26_EMU_API(cudaGraphLaunch)
#define cudaGraphDestroy Y26_EMU_API(cudaGraphDestroy)
#define cudaGraphExecDestroy Y26_EMU_API(cudaGraphExecDestroy)
#define cudaGetDeviceCount Y26_EMU_API(cudaGetDeviceCount)
#define cudaSetDevice Y26_EMU_API(cudaSetDevice)
#define cudaGetDevice Y26_EMU_API(cudaGetDevice)
#define cudaGetDeviceProperties Y26_EMU_API(cudaGetDeviceProperties)
#define cudaDeviceGetAttribute Y26_EMU_API(cudaDeviceGetAttribute)
#define cudaDeviceSynchronize Y26_EMU_API(cudaDeviceSynchronize)
#define cudaGetLastError Y26_EMU_API(cudaGetLastError)
#define cudaPeekAtLastError Y26_EMU_API(cudaPeekAtLastError)
#define cudaGetErrorString Y26_EMU_API(cudaGetErrorString)
#define cudaGetErrorName Y26_EMU_API(cudaGetErrorName)
#endif
