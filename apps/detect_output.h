// What y26 detect writes for one image or frame: its JSON fields and its one-line summary.
#pragma once

#include <cstdio>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "y26/y26.h"

namespace y26::app {

// A classifier's JSON "top5" (cls, name, prob, most probable first); `summary` gets "name 0.87, ...".
nlohmann::json top5_json(const Classification& c, const std::vector<std::string>& names, std::string& summary);

// One image's JSON "detections": class, name, score, box, and an OBB's rotated box, a pose model's
// keypoints (kpt_dim values each) or a segmentation model's mask (COCO RLE in the image's width x height);
// `summary` gets "N detections: 2 person, ...".
nlohmann::json detections_json(const std::vector<Detection>& dets, const std::vector<std::string>& names, int kpt_dim,
                               bool masks, const Image& image, std::string& summary);

// JSON Lines (y26 detect with any video input): one object a line, each written and flushed as it is made,
// so a reader sees every frame at once. The file is created with the first line: a run that fails before
// any leaves none. "-": standard output; "": none.
class JsonLines {
 public:
  explicit JsonLines(std::string path) : path_(std::move(path)) {}
  ~JsonLines();
  JsonLines(const JsonLines&) = delete;
  JsonLines& operator=(const JsonLines&) = delete;
  bool enabled() const { return !path_.empty(); }
  void write(const nlohmann::json& j);  // throws Error naming the file
  void close();                         // throws Error naming the file

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace y26::app
