// Which CUDA backends this build of liby26 has (runtime/gpu_backend.h).
#include "runtime/gpu_backend.h"

namespace y26::runtime {

#ifdef Y26_WITH_CUDA
namespace gpu {
const GpuBackend& backend();
}
const GpuBackend* cuda_backend() { return &gpu::backend(); }
#else
const GpuBackend* cuda_backend() { return nullptr; }
#endif

#ifdef Y26_WITH_CUDA_EMU
namespace emu {
const GpuBackend& backend();
}
const GpuBackend* emulator_backend() { return &emu::backend(); }
#else
const GpuBackend* emulator_backend() { return nullptr; }
#endif

}  // namespace y26::runtime
