// A YOLO-format dataset's images and labels, read as Ultralytics 8.4.190 reads them (data/base.py
// get_img_files, data/utils.py img2label_paths and verify_image_label), for `y26 val`.
#pragma once

#include <string>
#include <vector>

#include "runtime/det_metrics.h"

namespace y26::runtime {

// The image files of one split entry — a folder (searched recursively), a text file listing images (lines
// starting with "./" are relative to the text file), or one image — sorted, image extensions only. Throws a
// y26::Error naming the entry when it does not exist or holds no image.
std::vector<std::string> split_images(const std::vector<std::string>& entries);

// The label file of an image: the last "/images/" of its path becomes "/labels/", the extension ".txt".
std::string label_path(const std::string& image);

// One image's labels, normalised xywh as the file holds them (class, x, y, w, h).
struct LabelRow {
  int cls = 0;
  float x = 0, y = 0, w = 0, h = 0;
};
struct ImageLabels {
  enum class Status { Found, Missing, Empty, Corrupt };
  Status status = Status::Missing;
  std::vector<LabelRow> rows;
  std::string message;  // Corrupt: why the image is ignored; Found: a warning (duplicates removed), if any
};
// Reads and checks `label_file` as verify_image_label does: five columns (class x y w h), or a polygon
// (class x1 y1 x2 y2 ...: more than six columns) turned into its box; every value >= -0.01, every coordinate
// <= 1.01, class < nc; exact duplicate rows removed with a warning. A corrupt file is reported, not thrown.
ImageLabels read_labels(const std::string& label_file, int nc);

// The labels as targets in an image's pixels (xywh normalised -> xyxy pixels), for DetMetrics.
std::vector<Target> to_targets(const std::vector<LabelRow>& rows, int width, int height);

}  // namespace y26::runtime
