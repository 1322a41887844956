// Public model inspection and conversion: thin wrappers over the loader (and the head's task).
#include "graph/task.h"
#include "loader/safetensors.h"
#include "loader/weight_map.h"
#include "y26/y26.h"

namespace y26 {

ModelInfo inspect_model(const std::string& path) {
  const WeightMap w = load_weights(path);
  ModelInfo info;
  info.path = path;
  info.format = w.format;
  info.tensor_count = static_cast<std::int64_t>(w.tensors.size());
  info.parameter_count = w.parameter_count();
  info.weight_bytes = w.byte_count();
  info.num_classes = w.meta.nc;
  for (const auto& [i, name] : w.meta.names) {
    if (i >= 0 && static_cast<size_t>(i) >= info.class_names.size()) info.class_names.resize(static_cast<size_t>(i) + 1);
    if (i >= 0) info.class_names[static_cast<size_t>(i)] = name;
  }
  info.strides = w.meta.stride;
  info.scale = w.meta.scale;
  info.end2end = w.meta.end2end;
  info.reg_max = w.meta.reg_max;
  info.batchnorm_eps = w.meta.uniform_bn_eps();
  info.extra = w.meta.extra;
  const graph::HeadKind head = graph::head_kind(w);
  info.task = graph::task_name(head.task);
  info.head_module = head.module;
  info.head_layer = head.layer;
  return info;
}

void convert_model(const std::string& input_path, const std::string& output_path) {
  const WeightMap w = load_weights(input_path);
  loader::write_safetensors(w, output_path);
}

}  // namespace y26
