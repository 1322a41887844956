// The vendor baseline: a convolution through cuDNN (NHWC FP16, FP32 accumulation,
// tensor-op math), followed by y26's epilogue kernel for bias, SiLU and the residual
// (cuDNN's fused form adds the residual before the activation, YOLO26 after it).
// `y26 bench --kernels cudnn` runs every convolution this way, so our kernels are
// measured against cuDNN in the same run. Host header, no CUDA headers.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

class CudnnConv {
 public:
  // `weights`: folded FP32 weights in the CPU layout (kernels/ops.h); repacked here as KRSC FP16.
  CudnnConv(const ConvWeights& weights, const ConvParams& p, const View<const half_bits>& in, const View<half_bits>& out,
            const float* device_bias);
  ~CudnnConv();
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;

  std::size_t workspace_bytes() const { return workspace_; }
  std::size_t weight_bytes() const;
  void run(const View<const half_bits>& in, const View<half_bits>& out, const View<const half_bits>* residual,
           void* workspace, void* stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t workspace_ = 0;
};

// y26's conv epilogue on its own: out = act(out + bias) [+ residual], in place.
void conv_epilogue(const View<half_bits>& out, const float* bias, Activation act, const View<const half_bits>* residual,
                   void* stream);

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
