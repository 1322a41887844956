// y26 — public API. This is the one header an application includes.
//
// Everything the library reports as a failure is a y26::Error whose message is
// one line naming the file (or the option) and what is wrong with it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace y26 {

// One clear line: "<what>: <problem>", e.g. "model.pt: zip entry 'x/data/3' ends past end of file".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;  // width * height * 3 bytes

  std::uint8_t* pixel(int x, int y) { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const std::uint8_t* pixel(int x, int y) const {
    return rgb.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
};

// Images larger than this many pixels are refused before decoding (2^28 ≈ 16k x 16k).
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 28;

// Decodes a JPEG, PNG or BMP file into RGB. Throws Error naming the file on any problem.
Image load_image(const std::string& path);
// Same, from bytes in memory; `name` is used in error messages.
Image decode_image(const std::uint8_t* data, size_t size, const std::string& name);

// What a model file holds, as `y26 info` prints it.
struct ModelInfo {
  std::string path;
  std::string format;                  // "pt" (Ultralytics checkpoint) or "safetensors"
  std::int64_t tensor_count = 0;
  std::int64_t parameter_count = 0;    // learnable parameters (BatchNorm statistics excluded)
  std::int64_t weight_bytes = 0;       // as stored in the file
  int num_classes = -1;                // -1 when the file does not say
  std::vector<std::string> class_names;
  std::vector<float> strides;
  std::string scale;                   // "n", "s", ... when the model yaml says
  std::optional<bool> end2end;
  std::optional<int> reg_max;
  std::optional<double> batchnorm_eps; // set when every BatchNorm uses the same eps
  std::map<std::string, std::string> extra;  // e.g. "version" -> Ultralytics version
};

// Reads a model file (.pt or .safetensors) and describes it. Throws Error naming the file.
ModelInfo inspect_model(const std::string& path);

// Converts an Ultralytics .pt checkpoint (or a .safetensors file) to .safetensors with
// the same tensor names and the model metadata. Writes atomically: on error no file is left.
void convert_model(const std::string& input_path, const std::string& output_path);

// Library version, "major.minor.patch".
const char* version();

}  // namespace y26
