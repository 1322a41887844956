#include "loader/weight_map.h"

#include <cstring>

#include "common/half.h"
#include "loader/mapped_file.h"
#include "loader/safetensors.h"
#include "loader/zip_archive.h"
#include "loader/torch_checkpoint.h"
#include "y26/y26.h"

namespace y26 {

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    case DType::I8:
    case DType::U8:
    case DType::Bool: return 1;
  }
  return 0;
}

namespace {
constexpr std::pair<DType, const char*> kNames[] = {
    {DType::F16, "F16"}, {DType::BF16, "BF16"}, {DType::F32, "F32"}, {DType::F64, "F64"}, {DType::I64, "I64"},
    {DType::I32, "I32"}, {DType::I16, "I16"},   {DType::I8, "I8"},   {DType::U8, "U8"},   {DType::Bool, "BOOL"}};
}

const char* dtype_name(DType t) {
  for (const auto& [d, n] : kNames) {
    if (d == t) return n;
  }
  return "?";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& [d, n] : kNames) {
    if (name == n) return d;
  }
  return std::nullopt;
}

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<float> Tensor::to_float() const {
  const std::size_t n = static_cast<std::size_t>(numel());
  std::vector<float> out(n);
  const std::uint8_t* p = bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::F16: out[i] = half_to_float(loader::load_le16(p + 2 * i)); break;
      case DType::BF16: out[i] = bf16_to_float(loader::load_le16(p + 2 * i)); break;
      case DType::F32: std::memcpy(&out[i], p + 4 * i, 4); break;
      case DType::F64: {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
        break;
      }
      case DType::I64: out[i] = static_cast<float>(static_cast<std::int64_t>(loader::load_le64(p + 8 * i))); break;
      case DType::I32: out[i] = static_cast<float>(static_cast<std::int32_t>(loader::load_le32(p + 4 * i))); break;
      case DType::I16: out[i] = static_cast<float>(static_cast<std::int16_t>(loader::load_le16(p + 2 * i))); break;
      case DType::I8: out[i] = static_cast<float>(static_cast<std::int8_t>(p[i])); break;
      case DType::U8:
      case DType::Bool: out[i] = static_cast<float>(p[i]); break;
    }
  }
  return out;
}

std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

std::optional<double> ModelMeta::uniform_bn_eps() const {
  if (bn_eps.empty()) return std::nullopt;
  const double first = bn_eps.begin()->second;
  for (const auto& [k, e] : bn_eps) {
    if (e != first) return std::nullopt;
  }
  return first;
}

const Tensor* WeightMap::find(const std::string& name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

const Tensor& WeightMap::at(const std::string& name) const {
  const Tensor* t = find(name);
  if (t == nullptr) throw Error(source + ": tensor '" + name + "' is missing");
  return *t;
}

const Tensor& WeightMap::expect(const std::string& name, const std::vector<std::int64_t>& shape) const {
  const Tensor& t = at(name);
  if (t.shape != shape) {
    Tensor want;
    want.shape = shape;
    throw Error(source + ": tensor '" + name + "' has shape " + t.shape_string() + ", expected " + want.shape_string());
  }
  return t;
}

namespace {
bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::int64_t WeightMap::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& [name, t] : tensors) {
    if (ends_with(name, ".running_mean") || ends_with(name, ".running_var") || ends_with(name, ".num_batches_tracked")) continue;
    n += t.numel();
  }
  return n;
}

std::int64_t WeightMap::byte_count() const {
  std::int64_t n = 0;
  for (const auto& [name, t] : tensors) n += static_cast<std::int64_t>(t.bytes.size());
  return n;
}

WeightMap load_weights(const std::string& path) {
  const loader::MappedFile file(path);
  return load_weights(file);
}

WeightMap load_weights(const loader::MappedFile& file) {
  const std::string& path = file.path();
  if (file.size() == 0) throw Error(path + ": file is empty");
  if (loader::ZipArchive::looks_like_zip(file)) return loader::read_torch_checkpoint(file);
  if (loader::looks_like_safetensors(file)) return loader::read_safetensors(file);
  if (file.size() >= 2 && file.data()[0] == 0x80 && file.data()[1] <= 5) {
    throw Error(path + ": legacy (pre-1.6) torch serialization is not supported; re-save it with a current torch.save");
  }
  throw Error(path + ": not a model file y26 can read (expected an Ultralytics .pt checkpoint or .safetensors)");
}

}  // namespace y26
