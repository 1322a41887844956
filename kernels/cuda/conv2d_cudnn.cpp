// cuDNN's legacy convolution API (deprecated in cuDNN 9 but present and still the
// simplest way to run one convolution): the warnings about it are silenced here only.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "kernels/cuda/conv2d_cudnn.h"

#include <cudnn.h>

#include "common/half.h"
#include "kernels/cuda/device_memory.h"
#include "y26/y26.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw Error(std::string("cuDNN: ") + what + ": " + cudnnGetErrorString(s));
}

// One handle per thread; cuDNN handles are cheap to share across convolutions on one stream.
cudnnHandle_t handle() {
  thread_local cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    check(cudnnCreate(&created), "cudnnCreate");
    return created;
  }();
  return h;
}

void set_view(cudnnTensorDescriptor_t d, int n, int h, int w, int c, std::int64_t px, std::int64_t img) {
  check(cudnnSetTensor4dDescriptorEx(d, CUDNN_DATA_HALF, n, c, h, w, static_cast<int>(img), 1, static_cast<int>(px * w),
                                     static_cast<int>(px)),
        "cudnnSetTensor4dDescriptorEx");
}

}  // namespace

struct CudnnConv::Impl {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  DeviceBuffer weights;
  const float* bias = nullptr;
  Activation act = Activation::None;
};

CudnnConv::CudnnConv(const ConvWeights& cw, const ConvParams& p, const View<const half_bits>& in, const View<half_bits>& out,
                     const float* device_bias)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.bias = device_bias;
  m.act = p.act;
  const bool depthwise = cw.groups > 1;
  const int cin_g = depthwise ? 1 : cw.cin;
  // KRSC: [cout][kh][kw][cin / groups], FP16
  std::vector<half_bits> krsc(static_cast<size_t>(cw.cout) * cw.kh * cw.kw * cin_g);
  for (int co = 0; co < cw.cout; ++co)
    for (int tap = 0; tap < cw.kh * cw.kw; ++tap)
      for (int ci = 0; ci < cin_g; ++ci) {
        const float v = depthwise ? cw.w[static_cast<size_t>(tap) * cw.cout + co] : cw.w[(static_cast<size_t>(tap) * cw.cin + ci) * cw.cout + co];
        krsc[(static_cast<size_t>(co) * cw.kh * cw.kw + tap) * cin_g + ci] = float_to_half(v);
      }
  m.weights = DeviceBuffer(krsc.size() * 2);
  m.weights.upload(krsc.data(), krsc.size() * 2);

  check(cudnnCreateTensorDescriptor(&m.x), "cudnnCreateTensorDescriptor");
  check(cudnnCreateTensorDescriptor(&m.y), "cudnnCreateTensorDescriptor");
  check(cudnnCreateFilterDescriptor(&m.w), "cudnnCreateFilterDescriptor");
  check(cudnnCreateConvolutionDescriptor(&m.conv), "cudnnCreateConvolutionDescriptor");
  set_view(m.x, in.n, in.h, in.w, in.c, in.pixel_stride, in.image_stride);
  set_view(m.y, out.n, out.h, out.w, out.c, out.pixel_stride, out.image_stride);
  check(cudnnSetFilter4dDescriptor(m.w, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, cw.cout, cin_g, cw.kh, cw.kw), "cudnnSetFilter4dDescriptor");
  check(cudnnSetConvolution2dDescriptor(m.conv, p.pad, p.pad, p.stride, p.stride, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionGroupCount(m.conv, cw.groups), "cudnnSetConvolutionGroupCount");
  check(cudnnSetConvolutionMathType(m.conv, CUDNN_TENSOR_OP_MATH), "cudnnSetConvolutionMathType");
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int returned = 0;
  check(cudnnGetConvolutionForwardAlgorithm_v7(handle(), m.x, m.w, m.conv, m.y, 8, &returned, perf),
        "cudnnGetConvolutionForwardAlgorithm_v7");
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS) {
      m.algo = perf[i].algo;
      break;
    }
  }
  check(cudnnGetConvolutionForwardWorkspaceSize(handle(), m.x, m.w, m.conv, m.y, m.algo, &workspace_),
        "cudnnGetConvolutionForwardWorkspaceSize");
}

CudnnConv::~CudnnConv() {
  if (!impl_) return;
  if (impl_->x) cudnnDestroyTensorDescriptor(impl_->x);
  if (impl_->y) cudnnDestroyTensorDescriptor(impl_->y);
  if (impl_->w) cudnnDestroyFilterDescriptor(impl_->w);
  if (impl_->conv) cudnnDestroyConvolutionDescriptor(impl_->conv);
}

std::size_t CudnnConv::weight_bytes() const { return impl_->weights.size(); }

void CudnnConv::run(const View<const half_bits>& in, const View<half_bits>& out, const View<const half_bits>* residual,
                    void* workspace, void* stream) {
  Impl& m = *impl_;
  check(cudnnSetStream(handle(), static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  const float alpha = 1.0f, beta = 0.0f;
  check(cudnnConvolutionForward(handle(), &alpha, m.x, in.data, m.w, m.weights.get(), m.conv, m.algo, workspace, workspace_,
                                &beta, m.y, out.data),
        "cudnnConvolutionForward");
  conv_epilogue(out, m.bias, m.act, residual, stream);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
