// How Ultralytics 8.4.190's validator turns a split into network inputs (data/base.py load_image and
// set_rectangle, data/augment.py LetterBox with scaleup=False), for y26::validate:
//  - each image's long side resized to imgsz (INTER_LINEAR, sides rounded up, at most imgsz);
//  - images ordered by aspect ratio h/w and cut into batches; each batch one shape, its images' extreme
//    ratio times imgsz, over the stride, plus 0.5, rounded up, times the stride;
//  - each image padded (114, centred) to its batch's shape; the labels follow it.
#pragma once

#include <array>
#include <vector>

#include "runtime/det_metrics.h"
#include "runtime/letterbox.h"
#include "runtime/yolo_labels.h"
#include "y26/y26.h"

namespace y26::runtime {

struct RectBatches {
  std::vector<int> order;                 // image indices, by ascending aspect ratio (ties: input order)
  std::vector<std::array<int, 2>> shape;  // per batch: (height, width), multiples of stride
  int batch_size = 0;                     // batch b holds order[b * batch_size ...], the last may be short
};
// set_rectangle for images of `hw` (height, width) each, pad 0.5 as the validator's dataset.
RectBatches rect_batches(const std::vector<std::array<int, 2>>& hw, int batch_size, int imgsz, int stride, double pad = 0.5);

// Where one image went on its way into the network: loaded (long side to imgsz), then letterboxed.
struct ValGeometry {
  int src_w = 0, src_h = 0;        // the file's
  int loaded_w = 0, loaded_h = 0;  // after load_image
  Letterbox lb;                    // loaded -> batch shape
};
ValGeometry val_geometry(int src_w, int src_h, int imgsz, const std::array<int, 2>& batch_shape);

// The network input of one image (batch shape, 8-bit RGB).
Image val_input(const Image& src, const ValGeometry& g);

// Its labels in the input's pixels (xyxy), as the validator scores them.
std::vector<Target> val_targets(const std::vector<LabelRow>& rows, const ValGeometry& g);

// A box in the input's pixels back in the file's, clipped to it (scale_boxes with the dataset's ratio_pad).
Box val_box_to_source(const Box& b, const ValGeometry& g);

}  // namespace y26::runtime
