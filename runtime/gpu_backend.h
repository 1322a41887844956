// What the Engine needs of a CUDA backend, without CUDA headers. Two implementations can be linked into
// one program: the real one (nvcc, a GPU) and the same sources compiled against the emulator (emu/,
// `--device emu`), each in its own inline namespace (kernels/cuda/variant.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "memory/planner.h"
#include "runtime/device_selection.h"
#include "runtime/letterbox.h"
#include "y26/y26.h"

namespace y26::kernels::cpu {
class ThreadPool;
}

namespace y26::runtime {

// A model's folded convolution weights on one device, uploaded once and shared by every executor.
class GpuWeights {
 public:
  virtual ~GpuWeights() = default;
  virtual std::int64_t bytes() const = 0;
};

// One input shape and batch on the device (runtime/cuda_executor.h says what each call does).
class GpuExecutor {
 public:
  virtual ~GpuExecutor() = default;
  virtual void run(const std::vector<const Image*>& images, const std::vector<Letterbox>& boxes,
                   kernels::cpu::ThreadPool* pool) = 0;
  virtual std::vector<double> time_ops() = 0;
  virtual bool device_selection() const = 0;
  virtual bool nms_selection() const = 0;
  virtual int selected_rows() const = 0;
  virtual int selected_row_floats() const = 0;  // kernels::cuda::HeadExtras::row_floats()
  virtual const float* host_selected() const = 0;
  virtual const int* host_counts() const = 0;
  virtual std::vector<float> head_image(int image) const = 0;
  virtual const std::uint16_t* host_head() const = 0;
  virtual std::int64_t head_elements() const = 0;
  virtual std::vector<float> mask_logits(const std::vector<kernels::cuda::MaskRequest>& requests) const = 0;
  virtual double last_device_ms() const = 0;
  virtual std::int64_t device_bytes() const = 0;
  virtual std::string launch_detail(size_t node) const = 0;
};

// Whose convolutions the executor runs: y26's, cuDNN's best complete layer (the baseline), or cuDNN's
// convolution alone (a timing baseline whose outputs are not the network's).
enum class ConvKernels { Y26, Cudnn, CudnnConvOnly };

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  virtual const char* kind() const = 0;  // "cuda" or "emu": the --device prefix that selects it
  virtual bool available(std::string* why) const = 0;
  virtual bool has_cudnn(std::string* why) const = 0;  // *why: the library and version, or why not
  virtual void select_device(int device) const = 0;  // throws a y26::Error when it cannot
  virtual std::string device_name(int device) const = 0;
  virtual std::int64_t memory_used() const = 0;  // device memory in use by this process (0 if unknown)
  virtual std::shared_ptr<const GpuWeights> upload(const graph::Graph& g) const = 0;
  virtual std::unique_ptr<GpuExecutor> executor(const graph::Graph& g, memory::Plan plan,
                                                std::shared_ptr<const GpuWeights> weights, DeviceSelection sel,
                                                ConvKernels kernels) const = 0;
};

// The backends this build has (null when it was built without one).
const GpuBackend* cuda_backend();      // nvcc and a GPU
const GpuBackend* emulator_backend();  // the same kernels on the emulator (emu/)

}  // namespace y26::runtime
