// Converts folded FP32 convolution weights (the CPU layout of kernels/ops.h) into
// the CUDA kernels' FP16 layout (kernels/cuda/cuda_ops.h). Host code, no CUDA headers.
#pragma once

#include <vector>

#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {

// dense: [cout][k_padded] with zeros past kh*kw*cin; depthwise: [kh*kw][c]. Rounded to nearest even.
std::vector<half_bits> pack_conv_weights(const ConvWeights& w);

}  // namespace y26::kernels::cuda
