// What CUDA devices this process can use, asked once without side effects.
#pragma once

#include <string>

namespace y26::runtime {

struct CudaStatus {
  bool usable = false;   // a device answered
  int device_count = 0;
  std::string name;      // device 0, e.g. "NVIDIA H100 80GB HBM3"
  int sm = 0;            // compute capability as 90, 89, ...
  std::string reason;    // why not usable, one line
};

// Never throws: a build without CUDA or a machine without a driver says so in `reason`.
CudaStatus probe_cuda();

}  // namespace y26::runtime
