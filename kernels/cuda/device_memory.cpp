#include "kernels/cuda/device_memory.h"

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "y26/y26.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

std::atomic<std::int64_t> g_bytes{0}, g_allocations{0};

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace

const DeviceTraits& current_device_traits() {
  constexpr int kDevices = 64;
  static std::once_flag asked[kDevices + 1];
  static DeviceTraits traits[kDevices + 1];  // the last: a device number out of range, asked every time
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) cudaGetLastError();
  const int slot = dev >= 0 && dev < kDevices ? dev : kDevices;
  const auto ask = [&] {
    int sms = 0, major = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess)
      cudaGetLastError();
    traits[slot] = {sms > 0 ? sms : 1, major};
  };
  if (slot == kDevices) ask();
  else std::call_once(asked[slot], ask);
  return traits[slot];
}

bool programmatic_launch() {
  static const bool wanted = [] {
    const char* e = std::getenv("Y26_PDL");
    return e != nullptr && std::strcmp(e, "1") == 0;
  }();
  return wanted && current_device_traits().major >= 9;  // griddepcontrol: sm_90 and newer
}

bool device_available(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    if (why) {
      if (e == cudaSuccess || e == cudaErrorNoDevice) {
        *why = "no CUDA device found";
      } else if (e == cudaErrorInsufficientDriver) {
        *why = "no usable NVIDIA driver (none installed, or older than the CUDA runtime y26 was built with)";
      } else {
        *why = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
      }
    }
    cudaGetLastError();
    return false;
  }
  return true;
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
  g_bytes += static_cast<std::int64_t>(bytes);
  ++g_allocations;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_ != nullptr) {
    cudaFree(ptr_);
    g_bytes -= static_cast<std::int64_t>(bytes_);
  }
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    DeviceBuffer old(std::move(*this));
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::upload(const void* host, std::size_t bytes, std::size_t offset) {
  if (offset + bytes > bytes_) throw Error("CUDA upload past the end of a device buffer");
  check(cudaMemcpy(static_cast<char*>(ptr_) + offset, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
}

void DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const {
  if (offset + bytes > bytes_) throw Error("CUDA download past the end of a device buffer");
  check(cudaMemcpy(host, static_cast<const char*>(ptr_) + offset, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
}

void DeviceBuffer::fill(std::uint8_t byte) { check(cudaMemset(ptr_, byte, bytes_), "cudaMemset"); }

std::int64_t device_bytes_held() { return g_bytes; }
std::int64_t device_allocations() { return g_allocations; }

void synchronize() { check(cudaDeviceSynchronize(), "kernel execution"); }

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
