// The y26 graph IR: buffers (planned activation storage), slices (views into
// buffers) and nodes (ops in execution order). Concat and Chunk do not exist as
// ops: a concat output is a buffer whose channel slices are written by their
// producers, and a chunk is a slice read by its consumers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace y26::graph {

// Activation storage for one image (the batch multiplies it): h x w pixels of c channels.
struct Buffer {
  std::string name;
  int h = 0, w = 0, c = 0;
  std::int64_t elements() const { return static_cast<std::int64_t>(h) * w * c; }
};

// A view into a buffer: channels [c0, c0 + c) of pixels [pixel0, pixel0 + h * w),
// seen as an h x w image. Most slices cover all pixels (pixel0 = 0); the detection
// head's per-level outputs are pixel ranges of one (anchors x outputs) buffer.
struct Slice {
  int buffer = -1;
  int c0 = 0, c = 0;
  int pixel0 = 0;
  int h = 0, w = 0;
};

// DepthToSpace: a ConvTranspose2d 2x2/2 is a 1x1 conv to 4 x c channels (one group of c per output
// sub-pixel dy * 2 + dx), then this op moves each group to its sub-pixel of the 2x larger output.
enum class OpKind : std::uint8_t { Conv, MaxPool, Upsample, Attention, GlobalAvgPool, DepthToSpace };
const char* op_name(OpKind k);
struct Graph;
struct Node;
// One line on what a node computes, e.g. "3x3/2 64->128 SiLU +res, 40x40" (for per-op timings).
std::string describe(const Graph& g, const Node& n);

struct Node {
  OpKind kind = OpKind::Conv;
  std::string name;                // state-dict prefix, e.g. "model.6.m.0.cv1"
  int layer = -1;                  // the Ultralytics layer index it belongs to
  std::vector<Slice> inputs;       // Attention: q, k, v
  Slice output;
  std::optional<Slice> residual;   // Conv: added after the activation; Upsample: added to the upsampled value
  int weights = -1;                // Conv: index into Graph::conv_weights
  kernels::ConvParams conv;
  kernels::PoolParams pool;
  kernels::AttentionParams attention;
};

// Folded (BatchNorm-free) FP32 convolution weights in the CPU kernels' layout (kernels/ops.h).
struct ConvWeights {
  std::string name;
  int cin = 0, cout = 0, kh = 1, kw = 1, groups = 1;
  std::vector<float> w;
  std::vector<float> bias;
  kernels::ConvWeights view() const { return {w.data(), bias.data(), cin, cout, kh, kw, groups}; }
};

struct HeadLevel {
  int h = 0, w = 0;
  float stride = 0;
  int anchor_offset = 0;  // first anchor (pixel of the head buffer) of this level
};

// Which YOLO task a head is for (graph/task.h reads it from a checkpoint).
enum class Task { Detect, Segment, Pose, Obb, Classify, Unknown };
const char* task_name(Task t);  // "detect", "segment", "pose", "obb", "classify", "unknown"

// The head's output: buffer `output` holds, per image, one row per anchor of [4 * reg_max box
// distances (l, t, r, b), nc class logits, `extra` task channels], levels in order. The extra
// channels: Task::Obb, one angle in radians (OBB26's raw output, no sigmoid); Task::Pose, kpt_n keypoints of
// kpt_dim raw values each (x and y offsets from the anchor in cells, and a visibility logit when kpt_dim is 3);
// Task::Segment, the `extra` mask coefficients, which weigh the `protos` buffer's prototypes (Proto26: extra
// channels at a quarter of the input's resolution) into the detection's mask logits.
struct Head {
  int output = -1;
  Task task = Task::Detect;
  int nc = 0;
  int extra = 0;
  int kpt_n = 0, kpt_dim = 0;  // Task::Pose: extra == kpt_n * kpt_dim
  int protos = -1;             // Task::Segment: the prototypes' buffer (read by post-processing, as `output`)
  int reg_max = 1;
  bool end2end = true;  // which head was built: one-to-one (top-k) or one-to-many (NMS)
  std::vector<HeadLevel> levels;
  int anchors() const;
  int extra_channel() const { return 4 * reg_max + nc; }  // the first extra channel (OBB: the angle; pose: keypoints;
                                                           // segment: the mask coefficients)
  int row() const { return extra_channel() + extra; }      // floats per anchor
};

struct Graph {
  int input_h = 0, input_w = 0;
  int input = -1;  // buffer holding the preprocessed image (h x w x 3)
  std::vector<Buffer> buffers;
  std::vector<Node> nodes;
  std::vector<ConvWeights> conv_weights;
  Head head;
  std::vector<std::optional<Slice>> layer_outputs;  // Ultralytics layer index -> its output

  int add_buffer(std::string name, int h, int w, int c);
  Slice whole(int buffer) const;
  Slice channels(int buffer, int c0, int c) const;

  std::int64_t parameter_count() const;  // folded weights and biases
  double flops() const;                  // multiply-adds x 2 per image
};

}  // namespace y26::graph
