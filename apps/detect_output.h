// What y26 detect writes for one image or frame: its JSON fields and its one-line summary.
#pragma once

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

}  // namespace y26::app
