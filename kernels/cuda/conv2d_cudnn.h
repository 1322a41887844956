// The vendor baseline: each convolution layer (convolution, bias, SiLU, residual add) through cuDNN 9,
// NHWC FP16 with FP32 accumulation, in cuDNN's best fused form (kernels/cuda/cudnn_library.h loads cuDNN
// at run time). `y26 bench --kernels cudnn` runs every convolution this way, so our fused kernels are
// measured against cuDNN's in the same run; `--kernels cudnn-conv` runs cuDNN's convolution alone (no
// bias, activation or residual: a timing baseline only, its outputs are not the network's).
//
// Paths, best first; each layer takes the first that cuDNN accepts and reports it (path_name()):
//   1. fused graph   — cuDNN's graph API: convolution -> +bias -> swish(beta 1) = SiLU -> +residual as one
//                      operation graph, FP32 intermediates, FP16 output; heuristics mode A, the first
//                      engine configuration that finalizes (cuDNN's own recommendation, not autotuned);
//   2. legacy fused  — cudnnConvolutionBiasActivationForward, for layers without SiLU (it fuses only ReLU
//                      or identity): y = conv + bias + residual, one call;
//   3. conv + epilogue — cudnnConvolutionForward, then y26's epilogue kernel for bias/SiLU/residual (an
//                      extra read and write of the output that y26's fused kernels do not pay).
// Host header, no CUDA headers.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {

enum class CudnnPath { FusedGraph, LegacyFused, ConvThenEpilogue, ConvOnly };
inline const char* cudnn_path_name(CudnnPath p) {
  switch (p) {
    case CudnnPath::FusedGraph: return "fused graph";
    case CudnnPath::LegacyFused: return "legacy fused";
    case CudnnPath::ConvThenEpilogue: return "conv + y26 epilogue";
    case CudnnPath::ConvOnly: return "conv alone";
  }
  return "?";
}

Y26_CUDA_VARIANT_BEGIN

// Whether this variant can run cuDNN here: true with *why naming the library and version loaded, false
// with *why saying why not (not found: where it was looked for; the emulator: not emulated).
bool cudnn_available(std::string* why);

class CudnnConv {
 public:
  // `weights`: folded FP32 weights in the CPU layout (kernels/ops.h); repacked here as KRSC FP16.
  // The views are the ones run() will get (cuDNN's plans are built for their strides and alignment).
  // best: the best path to try (the layer takes the first at or after it that cuDNN accepts; tests pick
  // each in turn); ConvOnly: the convolution alone, for timing.
  CudnnConv(const ConvWeights& weights, const ConvParams& p, const View<const half_bits>& in, const View<half_bits>& out,
            const View<const half_bits>* residual, const float* device_bias, CudnnPath best = CudnnPath::FusedGraph);
  ~CudnnConv();
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;

  CudnnPath path() const;
  std::string path_name() const;  // the path, and for the fused graph the engine cuDNN chose
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
