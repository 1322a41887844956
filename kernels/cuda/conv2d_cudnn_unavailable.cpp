// The cuDNN baseline where there is none: on the emulator (cuDNN is a vendor library, not y26's code, so
// there is nothing of ours to emulate) and in a GPU build made without cuDNN's headers. It refuses with one
// clear error; the Engine asks cudnn_available() before it gets here.
#include "kernels/cuda/conv2d_cudnn.h"
#include "y26/y26.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

namespace {
#ifdef Y26_CUDA_EMU
constexpr const char* kWhy = "cuDNN is not emulated (--device emu runs y26's own kernels)";
#else
constexpr const char* kWhy = "this y26 was built without cuDNN's headers (cudnn.h), so without the cuDNN baseline";
#endif
}

bool cudnn_available(std::string* why) {
  if (why) *why = kWhy;
  return false;
}

struct CudnnConv::Impl {};

CudnnConv::CudnnConv(const ConvWeights&, const ConvParams&, const View<const half_bits>&, const View<half_bits>&,
                     const View<const half_bits>*, const float*, CudnnPath) {
  throw Error(std::string("--kernels cudnn: ") + kWhy);
}
CudnnConv::~CudnnConv() = default;
CudnnPath CudnnConv::path() const { return CudnnPath::ConvOnly; }
std::string CudnnConv::path_name() const { return kWhy; }
std::size_t CudnnConv::weight_bytes() const { return 0; }
void CudnnConv::run(const View<const half_bits>&, const View<half_bits>&, const View<const half_bits>*, void*, void*) {
  throw Error(std::string("--kernels cudnn: ") + kWhy);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
