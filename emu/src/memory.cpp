// Device and pinned memory: each allocation is its own heap block (so AddressSanitizer puts redzones
// around it), filled with the poison pattern (FP16/FP32 NaN) and registered, so that the runtime's
// copies and the kernels' cp.async can be checked against its bounds.
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "emu/src/internal.h"

namespace y26::emu {
namespace {

struct Allocation {
  std::size_t bytes;
  MemoryKind kind;
};
struct Registry {
  std::shared_mutex m;
  std::map<std::uintptr_t, Allocation> allocations;  // by first byte
  std::int64_t device_bytes = 0;
};
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void* allocate(std::size_t bytes, MemoryKind kind) {
  void* p = nullptr;
  // 256-byte aligned like cudaMalloc, exactly `bytes` long: the redzone starts right after the last byte
  if (posix_memalign(&p, 256, bytes == 0 ? 1 : bytes) != 0) return nullptr;
  std::memset(p, kPoisonByte, bytes);
  Registry& r = registry();
  std::unique_lock<std::shared_mutex> lock(r.m);
  r.allocations[reinterpret_cast<std::uintptr_t>(p)] = {bytes, kind};
  if (kind == MemoryKind::Device) r.device_bytes += static_cast<std::int64_t>(bytes);
  return p;
}

bool release(void* p, MemoryKind kind) {
  Registry& r = registry();
  {
    std::unique_lock<std::shared_mutex> lock(r.m);
    auto it = r.allocations.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == r.allocations.end() || it->second.kind != kind) return false;
    if (kind == MemoryKind::Device) r.device_bytes -= static_cast<std::int64_t>(it->second.bytes);
    r.allocations.erase(it);
  }
  std::free(p);
  return true;
}

bool range_in_allocation(const void* p, std::size_t bytes, MemoryKind* kind) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  Registry& r = registry();
  std::shared_lock<std::shared_mutex> lock(r.m);
  auto it = r.allocations.upper_bound(a);
  if (it == r.allocations.begin()) return false;
  --it;
  if (a - it->first > it->second.bytes || bytes > it->second.bytes - (a - it->first)) return false;
  if (kind) *kind = it->second.kind;
  return true;
}

bool device_range_ok(const void* p, std::size_t bytes) { return range_in_allocation(p, bytes, nullptr); }

std::int64_t device_bytes_allocated() {
  Registry& r = registry();
  std::shared_lock<std::shared_mutex> lock(r.m);
  return r.device_bytes;
}

}  // namespace y26::emu
