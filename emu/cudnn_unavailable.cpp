// cuDNN is a vendor library, not y26's code, so the emulator does not run it: the emulated backend's
// cuDNN baseline refuses with one clear error (the Engine says so before it gets here).
#include "kernels/cuda/conv2d_cudnn.h"
#include "y26/y26.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

struct CudnnConv::Impl {};

CudnnConv::CudnnConv(const ConvWeights&, const ConvParams&, const View<const half_bits>&, const View<half_bits>&,
                     const float*) {
  throw Error("--kernels cudnn: cuDNN is not emulated (--device emu runs y26's own kernels)");
}
CudnnConv::~CudnnConv() = default;
std::size_t CudnnConv::weight_bytes() const { return 0; }
void CudnnConv::run(const View<const half_bits>&, const View<half_bits>&, const View<const half_bits>*, void*, void*) {
  throw Error("--kernels cudnn: cuDNN is not emulated");
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
