#include "runtime/device.h"

#ifdef Y26_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace y26::runtime {

CudaStatus probe_cuda() {
  CudaStatus s;
#ifdef Y26_WITH_CUDA
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    s.reason = std::string("CUDA is unavailable: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later probes start clean
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA device found";
    return s;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    s.reason = "cannot query CUDA device 0";
    return s;
  }
  s.usable = true;
  s.device_count = count;
  s.name = prop.name;
  s.sm = prop.major * 10 + prop.minor;
#else
  s.reason = "this build of y26 has no CUDA backend (configured with Y26_CUDA=OFF or without nvcc)";
#endif
  return s;
}

}  // namespace y26::runtime
