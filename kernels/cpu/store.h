// How the CPU reference writes an activation: FP32, or rounded through FP16
// storage to mirror the GPU.
#pragma once

#include <cmath>

#include "common/half.h"

namespace y26::kernels::cpu {

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

inline float stored(float v, bool round_fp16) { return round_fp16 ? round_to_half(v) : v; }

}  // namespace y26::kernels::cpu
