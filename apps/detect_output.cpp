// What y26 detect writes for one image or frame (apps/detect_output.h).
#include "detect_output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

namespace y26::app {

// A classifier's JSON "top5" (cls, name, prob, most probable first); `summary` gets "name 0.87, ...".
nlohmann::json top5_json(const Classification& c, const std::vector<std::string>& names, std::string& summary) {
  nlohmann::json top = nlohmann::json::array();
  for (int k : c.top(5)) {
    const std::string& name = names[static_cast<size_t>(k)];
    const float p = c.probs[static_cast<size_t>(k)];
    top.push_back({{"cls", k}, {"name", name}, {"prob", p}});
    char line[32];
    std::snprintf(line, sizeof line, " %.2f", static_cast<double>(p));
    summary += (summary.empty() ? "" : ", ") + name + line;
  }
  return top;
}

// One image's JSON "detections": class, name, score, box, and an OBB's rotated box, a pose model's
// keypoints (kpt_dim values each) or a segmentation model's mask (COCO RLE in the image's width x height);
// `summary` gets "N detections: 2 person, ...".
nlohmann::json detections_json(const std::vector<Detection>& dets, const std::vector<std::string>& names, int kpt_dim,
                               bool masks, const Image& image, std::string& summary) {
  nlohmann::json jd = nlohmann::json::array();
  std::map<std::string, int> counts;
  for (const auto& d : dets) {
    const std::string& name = names[static_cast<size_t>(d.cls)];
    nlohmann::json j = {{"cls", d.cls}, {"name", name}, {"score", d.score}, {"box", {d.x1, d.y1, d.x2, d.y2}}};
    if (d.obb) {  // Ultralytics' obb.xywhr and obb.xyxyxyxy; "box" holds the corners' bounds
      const auto c = d.corners();
      j["obb"] = {{"cx", d.cx}, {"cy", d.cy}, {"w", d.w}, {"h", d.h}, {"angle", d.angle},
                  {"corners", {{c[0][0], c[0][1]}, {c[1][0], c[1][1]}, {c[2][0], c[2][1]}, {c[3][0], c[3][1]}}}};
    }
    if (!d.keypoints.empty()) {  // Ultralytics' keypoints.data: x, y (original pixels) and visibility
      nlohmann::json kp = nlohmann::json::array();
      for (const Keypoint& p : d.keypoints) kp.push_back(kpt_dim == 3 ? nlohmann::json{p.x, p.y, p.visible} : nlohmann::json{p.x, p.y});
      j["keypoints"] = std::move(kp);
    }
    if (masks)  // pycocotools' RLE: {"size": [height, width], "counts": compressed string}
      j["mask"] = {{"size", {image.height, image.width}}, {"counts", coco_rle(d.mask, image.width, image.height)}};
    jd.push_back(std::move(j));
    ++counts[name];
  }
  std::string classes;
  for (const auto& [name, n] : counts) classes += (classes.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  summary = std::to_string(dets.size()) + " detections" + (classes.empty() ? "" : ": ") + classes;
  return jd;
}

JsonLines::~JsonLines() {
  if (file_ && file_ != stdout) std::fclose(file_);
}

void JsonLines::write(const nlohmann::json& j) {
  if (!file_) {
    file_ = path_ == "-" ? stdout : std::fopen(path_.c_str(), "w");
    if (!file_) throw Error(path_ + ": cannot create: " + std::strerror(errno));
  }
  const std::string line = j.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    throw Error(path_ + ": cannot write: " + std::strerror(errno) + " (disk full, or the reader went away?)");
}

void JsonLines::close() {
  if (file_ && file_ != stdout && std::fclose(file_) != 0) {
    file_ = nullptr;
    throw Error(path_ + ": cannot write: " + std::strerror(errno));
  }
  file_ = nullptr;
}

}  // namespace y26::app
