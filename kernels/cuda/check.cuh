// CUDA error checking for kernel launchers: a failed call becomes a y26::Error naming it.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/cuda/device_memory.h"
#include "kernels/ops.h"
#include "y26/y26.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

// Programmatic dependent launch (Hopper and newer; programmatic_launch() in device_memory.h): a kernel may
// be scheduled while the kernel before it on the stream is still finishing, which hides most of the gap
// between the ~110 small kernels of a batch-1 run. pdl_prologue() is the first thing in every y26 kernel,
// before any global memory access: it waits until the kernels this one depends on have finished and their
// writes are visible (at once when the kernel was not launched programmatically, and on GPUs before
// sm_90), then lets the next kernel be scheduled.
__device__ __forceinline__ void pdl_prologue() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cudaGridDependencySynchronize();            // griddepcontrol.wait
  cudaTriggerProgrammaticLaunchCompletion();  // griddepcontrol.launch_dependents
#endif
}

// Launches kernel<<<grid, block, 0, stream>>>(args...), programmatically when enabled; a failure
// becomes a y26::Error naming the kernel.
template <typename... Params, typename... Args>
void launch_kernel(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, void* stream, Args... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = 0;
  cfg.stream = static_cast<cudaStream_t>(stream);
  cudaLaunchAttribute attr = {};
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  if (programmatic_launch()) {
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
  }
#ifdef Y26_CUDA_EMU
  check(::y26::emu::launch_named(name, &cfg, kernel, static_cast<Params>(args)...), name);  // the emulator names it in reports
#else
  check(cudaLaunchKernelEx(&cfg, kernel, static_cast<Params>(args)...), name);
#endif
}

__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }  // accurate expf, like the CPU twin

__device__ __forceinline__ float load_half(const unsigned short* p) { return __half2float(__ushort_as_half(*p)); }
__device__ __forceinline__ unsigned short to_half_bits(float v) { return __half_as_ushort(__float2half_rn(v)); }

// Eight FP16 bit patterns through one 16-byte access (p 16-byte aligned: see rows_aligned16).
__device__ __forceinline__ void load8_bits(const unsigned short* p, unsigned short* h) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const unsigned w[4] = {u.x, u.y, u.z, u.w};
  for (int i = 0; i < 4; ++i) h[2 * i] = static_cast<unsigned short>(w[i]), h[2 * i + 1] = static_cast<unsigned short>(w[i] >> 16);
}
__device__ __forceinline__ void store8_bits(unsigned short* p, const unsigned short* h) {
  const auto word = [&](int i) { return static_cast<unsigned>(h[2 * i]) | static_cast<unsigned>(h[2 * i + 1]) << 16; };
  *reinterpret_cast<uint4*>(p) = make_uint4(word(0), word(1), word(2), word(3));
}
// VEC FP16 values at p as floats: 8 through one 16-byte load, or 1.
template <int VEC>
__device__ __forceinline__ void load_floats(const unsigned short* p, float* f) {
  if constexpr (VEC == 8) {
    unsigned short h[8];
    load8_bits(p, h);
    for (int i = 0; i < 8; ++i) f[i] = __half2float(__ushort_as_half(h[i]));
  } else {
    f[0] = load_half(p);
  }
}

// A view whose pixels can be read or written 8 channels (16 bytes) at a time from any channel that is a
// multiple of 8: the data 16-byte aligned, both strides multiples of 8 elements.
template <typename T>
bool rows_aligned16(const View<T>& v) {
  return reinterpret_cast<std::uintptr_t>(v.data) % 16 == 0 && v.image_stride % 8 == 0 && v.pixel_stride % 8 == 0;
}

// Element (b, y, x, ch) of an NHWC view, as kernels/ops.h defines it.
template <typename T>
__device__ __forceinline__ T* at(T* data, long long image_stride, long long pixel_stride, int w, int b, int y, int x) {
  return data + b * image_stride + (static_cast<long long>(y) * w + x) * pixel_stride;
}

// Element i of a batch x h x w x c tensor, channels fastest (how the elementwise kernels number threads).
struct NhwcIndex {
  int b, y, x, ch;
};
__device__ __forceinline__ NhwcIndex nhwc_index(long long i, int h, int w, int c) {
  if (i < 0x7fffffffLL) {  // every realistic tensor: 32-bit division costs a fraction of 64-bit division's emulation
    const unsigned u = static_cast<unsigned>(i), p = u / static_cast<unsigned>(c);
    const unsigned uw = static_cast<unsigned>(w), uh = static_cast<unsigned>(h);
    return {static_cast<int>(p / (uw * uh)), static_cast<int>((p / uw) % uh), static_cast<int>(p % uw),
            static_cast<int>(u - p * static_cast<unsigned>(c))};
  }
  const long long p = i / c;
  return {static_cast<int>(p / (static_cast<long long>(w) * h)), static_cast<int>((p / w) % h), static_cast<int>(p % w),
          static_cast<int>(i % c)};
}

// This thread's output when each thread of a 1-D grid takes VEC consecutive channels of one pixel of a
// batch x h x w x c tensor (c a multiple of VEC): (b, y, x, its first channel); false past the end.
template <int VEC>
__device__ __forceinline__ bool vec_thread_index(int batch, int h, int w, int c, NhwcIndex& e) {
  const int groups = c / VEC;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(batch) * h * w * groups) return false;
  e = nhwc_index(i, h, w, groups);
  e.ch *= VEC;
  return true;
}

inline int blocks_for(long long n, int threads) { return static_cast<int>((n + threads - 1) / threads); }

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
