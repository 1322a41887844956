// .safetensors read (validated header, offsets, sizes) and write (atomic: a
// temporary file renamed into place, so a failed convert leaves nothing behind).
// Model metadata travels in __metadata__: names, nc, stride, eps, scale,
// end2end, reg_max, yaml, and the Ultralytics version/date when known.
#pragma once

#include <string>

#include "loader/mapped_file.h"
#include "loader/weight_map.h"

namespace y26::loader {

bool looks_like_safetensors(const MappedFile& file);
WeightMap read_safetensors(const MappedFile& file);
void write_safetensors(const WeightMap& weights, const std::string& path);

}  // namespace y26::loader
