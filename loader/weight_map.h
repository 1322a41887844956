// WeightMap: what a model file holds, independent of its format. A .pt checkpoint
// and the .safetensors file converted from it yield identical WeightMaps.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace y26 {

enum class DType : std::uint8_t { F16, BF16, F32, F64, I64, I32, I16, I8, U8, Bool };

std::size_t dtype_size(DType t);
// Safetensors spelling: "F16", "BF16", "F32", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL".
const char* dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
inline bool dtype_is_float(DType t) { return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64; }

struct Tensor {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // contiguous, row-major, little-endian

  std::int64_t numel() const;
  // Every element converted to float (floating and integer dtypes).
  std::vector<float> to_float() const;
  std::string shape_string() const;  // "[16, 3, 3, 3]"
};

// FNV-1a 64 over a tensor's bytes: the checksum make_goldens.py writes in manifests.
std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t size);

// Model-level facts read from checkpoint objects or safetensors __metadata__.
struct ModelMeta {
  std::map<int, std::string> names;            // class index -> name
  int nc = -1;                                 // number of classes, -1 if unknown
  std::vector<float> stride;                   // detection strides, e.g. 8 16 32
  std::map<std::string, double> bn_eps;        // BatchNorm module prefix -> eps
  std::string scale;                           // "n", "s", ... from the model yaml, if present
  std::optional<bool> end2end;                 // yaml end2end
  std::optional<int> reg_max;                  // yaml reg_max
  std::string yaml_json;                       // the model yaml as JSON, "" if absent
  std::map<std::string, std::string> extra;    // e.g. ultralytics version, date

  // The eps every BatchNorm shares, or nullopt when they differ or there are none.
  std::optional<double> uniform_bn_eps() const;

  bool operator==(const ModelMeta&) const = default;
};

struct WeightMap {
  std::string source;  // the file it came from, for error messages
  std::string format;  // "pt" or "safetensors"
  std::map<std::string, Tensor> tensors;
  ModelMeta meta;

  // The tensor, or a y26::Error naming the source file and the missing name.
  const Tensor& at(const std::string& name) const;
  const Tensor* find(const std::string& name) const;
  // at(), and also checks the shape; the error names file, tensor, expected and actual shapes.
  const Tensor& expect(const std::string& name, const std::vector<std::int64_t>& shape) const;

  // Learnable parameters (everything except BatchNorm running statistics and counters).
  std::int64_t parameter_count() const;
  std::int64_t byte_count() const;
};

namespace loader {
class MappedFile;
}

// Loads a model file, choosing the reader from the file's first bytes (.pt zip or safetensors).
WeightMap load_weights(const std::string& path);
WeightMap load_weights(const loader::MappedFile& file);

}  // namespace y26
