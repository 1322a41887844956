// Device memory for the runtime and the [cuda] tests, without CUDA headers.
// Every allocation is counted, so the engine can report (and tests can assert)
// exactly how many device bytes it holds and that run() allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/cuda/variant.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

// True when a CUDA device can be used; otherwise `why` says why (one line).
bool device_available(std::string* why);

// What the backend asks of the current device, asked once per device (engines on two different GPUs each
// get their own): streaming multiprocessors (tile choice) and the compute capability's major (PDL).
struct DeviceTraits {
  int sms = 1, major = 0;
};
const DeviceTraits& current_device_traits();

// Whether y26's kernels are launched with programmatic dependent launch (check.cuh's launch_kernel):
// opt-in with Y26_PDL=1, and only on sm_90 and newer, until a GPU run has measured it (bench/gpu-check.sh
// runs batch 1 both ways and compares the detections).
bool programmatic_launch();

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  std::size_t size() const { return bytes_; }

  void upload(const void* host, std::size_t bytes, std::size_t offset = 0);
  void download(void* host, std::size_t bytes, std::size_t offset = 0) const;
  void fill(std::uint8_t byte);  // e.g. 0xFF: FP16 NaN everywhere, to poison outputs

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Bytes currently held by all DeviceBuffers of this process, and how many cudaMalloc calls were made.
std::int64_t device_bytes_held();
std::int64_t device_allocations();

void synchronize();

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
