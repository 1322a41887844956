// Force-included (-include) first into every translation unit compiled against the emulator: the CUDA
// kernels (kernels/cuda/*.cu built by the host compiler), the CUDA executor and the [emu] tests. The
// toolkit's host headers come first (FP16 and the vector types work in host code), then the emulator's
// device side and runtime; __CUDA_ARCH__ is defined last, so the kernels take their sm_90 paths while the
// toolkit's headers took their host paths.
#pragma once

#include <cuda_fp16.h>
#include <vector_functions.h>
#include <vector_types.h>

#include <cuda_runtime_api.h>  // emu/include/: the toolkit's types and the emulator's runtime

#include "emu/device.h"

#undef __shared__
// Blocks run one at a time on each host thread, all of a block's threads on that thread: a static
// thread_local is one copy per resident block, which is what __shared__ is.
#define __shared__ static thread_local
#undef __launch_bounds__
#define __launch_bounds__(...)
#ifndef __restrict__
#define __restrict__ __restrict
#endif

#define Y26_CUDA_EMU 1
#undef __CUDA_ARCH__
#define __CUDA_ARCH__ 900
