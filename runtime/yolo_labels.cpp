// A YOLO-format dataset's images and labels (runtime/yolo_labels.h), as Ultralytics reads them.
#include "runtime/yolo_labels.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "y26/y26.h"

namespace y26::runtime {
namespace {

namespace fs = std::filesystem;

// data/utils.py IMG_FORMATS
const std::set<std::string> kImageFormats = {"avif", "bmp", "dng", "heic", "heif", "jp2", "jpeg", "jpg", "mpo",
                                             "png", "tif", "tiff", "webp", "pfm"};

bool is_image(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return kImageFormats.count(ext) != 0;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.erase(0, 3);  // utf-8-sig
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

}  // namespace

std::vector<std::string> split_images(const std::vector<std::string>& entries) {
  std::vector<std::string> files;
  for (const auto& entry : entries) {
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(entry, fs::directory_options::follow_directory_symlink, ec))
        if (e.is_regular_file(ec) && e.path().filename().string().find('.') != std::string::npos) files.push_back(e.path().string());
    } else if (fs::is_regular_file(entry, ec)) {
      if (is_image(entry)) {
        files.push_back(entry);
        continue;
      }
      const std::string parent = fs::path(entry).parent_path().string() + "/";
      for (auto line : lines_of(read_text(entry))) {
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.erase(0, 1);
        if (line.empty()) continue;
        files.push_back(line.rfind("./", 0) == 0 ? parent + line.substr(2) : line);
      }
    } else {
      throw Error(entry + ": does not exist (a dataset split names a folder, a list of images or an image)");
    }
  }
  std::vector<std::string> images;
  for (auto& f : files)
    if (is_image(f)) images.push_back(std::move(f));
  std::sort(images.begin(), images.end());
  if (images.empty()) {
    std::string what;
    for (const auto& e : entries) what += (what.empty() ? "" : ", ") + e;
    throw Error(what + ": no images found");
  }
  return images;
}

std::string label_path(const std::string& image) {
  std::string p = image;
  const auto at = p.rfind("/images/");
  if (at != std::string::npos) p.replace(at, 8, "/labels/");
  const auto dot = p.rfind('.');
  const auto slash = p.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) p.erase(dot);
  return p + ".txt";
}

ImageLabels read_labels(const std::string& label_file, int nc) {
  ImageLabels out;
  std::error_code ec;
  if (!fs::is_regular_file(label_file, ec)) return out;  // missing: an image without objects
  std::string text = read_text(label_file);
  // Ultralytics: read().strip().splitlines(), the non-empty lines split on whitespace
  std::vector<std::vector<std::string>> rows;
  for (const auto& line : lines_of(text)) {
    std::stringstream ss(line);
    std::vector<std::string> cols;
    for (std::string c; ss >> c;) cols.push_back(c);
    if (!line.empty() && !cols.empty()) rows.push_back(cols);
  }
  if (rows.empty()) {
    out.status = ImageLabels::Status::Empty;
    return out;
  }
  const auto corrupt = [&](const std::string& why) {
    out.status = ImageLabels::Status::Corrupt;
    out.rows.clear();
    out.message = label_file + ": ignoring corrupt image/label: " + why;
    return out;
  };
  const bool segments = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.size() > 6; });
  std::vector<std::array<float, 5>> lb;
  for (const auto& r : rows) {
    std::vector<float> v;
    for (const auto& c : r) {
      char* end = nullptr;
      const double d = std::strtod(c.c_str(), &end);
      if (end == c.c_str() || *end != '\0') return corrupt("could not convert '" + c + "' to a number");
      v.push_back(static_cast<float>(d));
    }
    if (segments) {  // a polygon: its box (segments2boxes), as xywh
      if (v.size() < 3 || (v.size() - 1) % 2 != 0) return corrupt("a polygon needs pairs of coordinates");
      float x1 = v[1], y1 = v[2], x2 = v[1], y2 = v[2];
      for (size_t i = 1; i + 1 < v.size(); i += 2) {
        x1 = std::min(x1, v[i]), x2 = std::max(x2, v[i]);
        y1 = std::min(y1, v[i + 1]), y2 = std::max(y2, v[i + 1]);
      }
      lb.push_back({v[0], (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1});
      continue;
    }
    if (v.size() != 5) return corrupt("labels require 5 columns, " + std::to_string(v.size()) + " columns detected");
    lb.push_back({v[0], v[1], v[2], v[3], v[4]});
  }
  for (const auto& r : lb) {
    for (int k = 1; k < 5; ++k)
      if (!(r[static_cast<size_t>(k)] <= 1.01f)) return corrupt("non-normalized or out of bounds coordinates");
    for (float x : r)
      if (!(x >= -0.01f)) return corrupt("negative class labels or coordinate");
    if (r[0] >= static_cast<float>(nc))
      return corrupt("Label class " + std::to_string(static_cast<int>(r[0])) + " exceeds dataset class count " + std::to_string(nc));
  }
  // exact duplicates removed; then, as np.unique does, the rows in ascending order
  std::vector<std::array<float, 5>> unique = lb;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  if (unique.size() < lb.size()) {
    out.message = label_file + ": " + std::to_string(lb.size() - unique.size()) + " duplicate labels removed";
    lb = unique;
  }
  out.status = ImageLabels::Status::Found;
  for (const auto& r : lb) out.rows.push_back({static_cast<int>(r[0]), r[1], r[2], r[3], r[4]});
  return out;
}

std::vector<Target> to_targets(const std::vector<LabelRow>& rows, int width, int height) {
  std::vector<Target> out;
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  for (const auto& r : rows)
    out.push_back({{(r.x - r.w / 2) * w, (r.y - r.h / 2) * h, (r.x + r.w / 2) * w, (r.y + r.h / 2) * h}, r.cls});
  return out;
}

}  // namespace y26::runtime
