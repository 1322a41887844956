// This variant of the CUDA backend as the Engine sees it (runtime/gpu_backend.h): compiled once by the
// real toolchain and once against the emulator (kernels/cuda/variant.h).
#include <cuda_runtime_api.h>

#include "kernels/cuda/device_memory.h"
#include "runtime/cuda_executor.h"

namespace y26::runtime {
Y26_CUDA_VARIANT_BEGIN
namespace {

#ifdef Y26_CUDA_EMU
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

class Backend final : public GpuBackend {
 public:
  const char* kind() const override { return kEmulated ? "emu" : "cuda"; }
  bool available(std::string* why) const override { return kernels::cuda::device_available(why); }
  bool has_cudnn(std::string* why) const override { return kernels::cuda::cudnn_available(why); }
  void select_device(int device) const override {
    if (cudaSetDevice(device) != cudaSuccess) {
      cudaGetLastError();
      throw Error(std::string(kind()) + ": cannot select device " + std::to_string(device));
    }
  }
  std::string device_name(int device) const override {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
      cudaGetLastError();
      return "unknown device";
    }
    return prop.name;
  }
  std::int64_t memory_used() const override {
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return static_cast<std::int64_t>(total - free);
  }
  std::shared_ptr<const GpuWeights> upload(const graph::Graph& g) const override {
    return std::make_shared<const DeviceWeights>(g);
  }
  std::unique_ptr<GpuExecutor> executor(const graph::Graph& g, memory::Plan plan, std::shared_ptr<const GpuWeights> weights,
                                        DeviceSelection sel, ConvKernels kernels) const override {
    auto w = std::dynamic_pointer_cast<const DeviceWeights>(weights);
    if (!w) throw Error(std::string(kind()) + ": the weights were uploaded by another backend");
    return std::make_unique<CudaExecutor>(g, std::move(plan), std::move(w), sel, kernels);
  }
};

}  // namespace

const GpuBackend& backend() {
  static const Backend b;
  return b;
}

Y26_CUDA_VARIANT_END
}  // namespace y26::runtime
