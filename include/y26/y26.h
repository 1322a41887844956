// y26 — public API. This is the one header an application includes.
//
// Everything the library reports as a failure is a y26::Error whose message is
// one line naming the file (or the option) and what is wrong with it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
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
  // The task its head is for, from the model yaml and the head's tensors: "detect", "segment", "pose",
  // "obb", "classify" or "unknown"; Engine::load runs all but "unknown" (and YOLOv8's heads), which it refuses by name.
  std::string task;
  std::string head_module;  // e.g. "Detect", "Segment26"; "" when no head was found
  std::string head_layer;   // its state-dict prefix, e.g. "model.23"
};

// Reads a model file (.pt or .safetensors) and describes it. Throws Error naming the file.
ModelInfo inspect_model(const std::string& path);

// Converts an Ultralytics .pt checkpoint (or a .safetensors file) to .safetensors with
// the same tensor names and the model metadata. Writes atomically: on error no file is left.
void convert_model(const std::string& input_path, const std::string& output_path);

// A keypoint of a pose model (task "pose"), in original image pixels; `visible` is the model's visibility
// probability (sigmoid of its logit), 1 for a model whose keypoints have none (kpt_shape [n, 2]).
struct Keypoint {
  float x = 0, y = 0, visible = 1;
};

// A segmentation model's instance mask (task "segment"), in original image pixels: `pixels` covers the
// rectangle [x, x + width) x [y, y + height) row by row, 1 where the object is, else 0; no pixel outside
// the rectangle is the object's. The rectangle is the mask's tight bounds (0 x 0 when it has none).
struct Mask {
  int x = 0, y = 0, width = 0, height = 0;
  std::vector<std::uint8_t> pixels;
  bool contains(int px, int py) const;  // the image's pixel (px, py) is the object's
  std::int64_t area() const;            // pixels set
};

// COCO's run-length encoding of a mask in an image_width x image_height image, as pycocotools'
// mask.encode gives it in "counts" (column-major runs, the first of zeros, as its compressed string).
std::string coco_rle(const Mask& mask, int image_width, int image_height);

// One detected object, in original image pixels.
struct Detection {
  int cls = 0;  // class index; Engine::class_names() names it
  float score = 0;
  // The box, clipped to the image; for an oriented box the bounds of its corners, unclipped (as
  // Ultralytics' obb.xyxy).
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  // Oriented-box models (task "obb"): the rotated box as Ultralytics' xywhr, its centre, width, height
  // and angle in radians (the rotation from the image's x axis towards its y axis, y pointing down).
  bool obb = false;
  float cx = 0, cy = 0, w = 0, h = 0, angle = 0;
  // The four corners (x, y) in Ultralytics' xyxyxyxy order: of the rotated box, or of x1..y2 when !obb.
  std::array<std::array<float, 2>, 4> corners() const;
  // Pose models (task "pose"): the object's keypoints in the model's order (COCO's 17 for Ultralytics'
  // person models), clipped to the image as Ultralytics' keypoints.xy; empty for other tasks.
  std::vector<Keypoint> keypoints = {};
  // Segmentation models (task "segment"): the object's mask, as Ultralytics' predict makes it (at the
  // input's resolution by default, mapped to the image's pixels; Options::retina_masks: at the image's).
  // Ultralytics drops a detection whose mask is empty: so does y26.
  Mask mask = {};
};

// One image's class probabilities (task "classify"): the softmax of the model's logits.
struct Classification {
  std::vector<float> probs;  // by class index (Engine::class_names() names them); they sum to 1
  // The k most probable classes, most probable first (equal probabilities: the lower index first).
  std::vector<int> top(int k = 5) const;
};

// Auto: FP32 on the CPU, FP16 on the GPU. FP16 on the CPU stores activations rounded to half, as the GPU does.
enum class Precision { Auto, FP32, FP16 };
enum class LetterboxMode { Auto, Square, Rect };

struct Options {
  // Network input size, rounded up to a multiple of 32; 0: the size the checkpoint was trained at (its
  // train_args.imgsz, as Ultralytics' predict and val default to), else 640.
  int imgsz = 0;
  float conf = 0.25f;      // keep detections scoring above this
  float iou = 0.7f;        // NMS IoU threshold (with nms = true)
  int max_det = 300;       // detections per image at most
  bool nms = false;        // false: YOLO26's NMS-free one-to-one head (top-k); true: one-to-many head + NMS
  // Segmentation: the masks made at the original image's resolution (Ultralytics' retina_masks=True), not
  // at the input's and then mapped (its default).
  bool retina_masks = false;
  std::string device = "auto";  // "auto", "cpu", "cuda" or "cuda:N"
  Precision precision = Precision::Auto;
  // Auto, as Ultralytics: minimal padding ("rect") when every image of a call has the same size, else imgsz x imgsz.
  LetterboxMode letterbox = LetterboxMode::Auto;
  int threads = 0;         // CPU threads; 0: one per hardware thread
  // The kernel set. "auto": "y26" on the GPU, "fast" on the CPU ("reference" with FP16 storage, or on a
  // CPU without AVX2, where it is the faster); after Engine::load, options().kernels names the set in use.
  // CPU: "fast" (FMA and AVX-512/AVX2 vector kernels picked for this CPU at run time; FP32 results within
  // rounding of the reference, README "CPU kernels") or "reference" (the exact kernels, the oracle of the
  // CUDA kernels; also the only set with FP16 storage).
  // GPU: "y26" (our kernels), "cudnn" (the vendor baseline: each layer in cuDNN's best fused form, for
  // comparison) or "cudnn-conv" (cuDNN's convolutions alone, without bias, activation or residual: for
  // timing only, its detections are meaningless). cuDNN 9 is loaded at run time when asked for.
  std::string kernels = "auto";
};

// One activation buffer of a memory plan.
struct PlannedTensor {
  std::string name;  // the state-dict prefix of its producer, e.g. "model.6.cat"
  int height = 0, width = 0, channels = 0;
  std::int64_t offset_bytes = 0, size_bytes = 0;  // in the arena, batch included
  int first_op = 0, last_op = 0;                  // live from op first_op through last_op (-1: the input)
};

// The memory plan of one input shape and batch, in bytes of the engine's activation dtype.
struct MemoryReport {
  std::string dtype;  // "float16" or "float32"
  int batch = 0, height = 0, width = 0;
  std::int64_t arena_bytes = 0;        // the one activation arena, as planned
  std::int64_t lower_bound_bytes = 0;  // max over op steps of the bytes live at once
  std::int64_t naive_bytes = 0;        // every activation in its own buffer
  std::int64_t weights_bytes = 0;      // folded weights in the engine's precision
  std::int64_t workspace_bytes = 0;    // operator scratch beyond the arena
  // "concurrent": planned for independent branches running at the same time (the GPU at batch <= 4;
  // the arena may then exceed the lower bound, which counts op steps in graph order); else "sequential".
  std::string execution;
  std::vector<PlannedTensor> tensors;
  std::int64_t total_bytes() const { return arena_bytes + weights_bytes + workspace_bytes; }
};

// The physical limit of one GPU for y26's graph (`y26 bench --roofline`): per op its FLOPs and the
// fewest DRAM bytes it must move (inputs, weights and outputs once, FP16 activations and weights, FP32
// bias), and the least time either takes on the GPU; docs/gpu-check.md says how the bounds are made.
struct GpuLimits {
  std::string name;            // "NVIDIA H200"
  double tensor_tflops = 0;    // dense FP16 tensor-core FLOP/s (FP32 accumulation), 1e12
  double vector_tflops = 0;    // FP16 FLOP/s off the tensor cores (depthwise convolutions, pooling), 1e12
  double bandwidth_gbs = 0;    // DRAM bandwidth, 1e9 B/s
  double launch_us = 0;        // the least time one kernel takes in a replayed CUDA graph
  std::string source;          // where the figures come from
};
// The datasheet limits of "h200" or "h100" (H100 SXM); throws a y26::Error for another name.
GpuLimits gpu_limits(const std::string& gpu);

struct OpBound {
  std::string name, kind;  // as OpTiming
  double flops = 0, bytes = 0;
  double compute_ms = 0, memory_ms = 0;
  double bound_ms = 0;     // max(compute, memory, one launch)
  std::string limit;       // "compute", "memory" or "launch": what sets the bound
};
struct RooflineReport {
  GpuLimits gpu;
  int batch = 0, height = 0, width = 0;
  double flops = 0, bytes = 0;          // the whole network, this batch
  double latency_bound_ms = 0;          // sum over ops of bound_ms: one batch, op after op
  double throughput_bound_img_s = 0;    // batch / sum over ops of max(compute, memory): no launch floor
  std::vector<OpBound> ops;             // in graph order
};

// The layer graph built for one input size.
struct LayerSummary {
  int index = 0;           // Ultralytics layer index (23: Detect; 10: Classify)
  std::string type;        // "Conv", "C3k2", ...
  int ops = 0;             // y26 ops it became
  std::int64_t parameters = 0;
  int height = 0, width = 0, channels = 0;  // output
};
struct GraphSummary {
  int height = 0, width = 0;
  int ops = 0;
  std::int64_t parameters = 0;  // after BatchNorm folding
  double gflops = 0;            // per image
  int num_classes = 0;
  bool end2end = true;
  std::vector<LayerSummary> layers;
};

// Per-call timings of the last detect(), milliseconds.
struct Timing {
  double preprocess_ms = 0, inference_ms = 0, postprocess_ms = 0;  // wall clock, on the calling thread
  // CUDA: device time from the first pixel upload to the detections' download (CUDA events on the
  // engine's stream: letterbox, network, selection, transfers); 0 on the CPU.
  double device_ms = 0;
};

// Time of one op of the network, from Engine::profile.
struct OpTiming {
  std::string name;  // state-dict prefix, e.g. "model.6.m.0.cv1"
  std::string kind;  // "Conv", "MaxPool", "Upsample", "Attention", "Postprocess"
  double ms = 0;     // median over the profiled runs
  std::string detail;  // what it computes and, on the GPU, how: "3x3/1 64->64 SiLU +res, 80x80x64, tile 64x64"
};

// A loaded model ready to detect. Not thread-safe: use one Engine per thread.
class Engine {
 public:
  // Loads an Ultralytics .pt or a .safetensors YOLO26 model (detect, segment, pose, obb or classify). Throws Error.
  static Engine load(const std::string& model_path, const Options& options = {});
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // Another engine for the same model, to run on another thread: its own arenas and CUDA
  // stream, the model's weights (host and device) shared, not copied.
  Engine share() const;

  // Detects objects in a batch of images (one result list per image, best first). A classification
  // model (task "classify") throws an Error pointing to classify().
  std::vector<std::vector<Detection>> detect(const std::vector<Image>& images);
  std::vector<Detection> detect(const Image& image);
  // Classifies a batch of images (task "classify"; another model throws an Error): each resized so that
  // its shorter side is imgsz and centre-cropped to imgsz x imgsz, as Ultralytics' classify transforms.
  std::vector<Classification> classify(const std::vector<Image>& images);
  Classification classify(const Image& image);
  // Detections on images already letterboxed to one input shape (width and height multiples of 32, every
  // image that size): the network sees them as they are, no resize or padding, and the boxes stay in their
  // pixels, unclipped: what Ultralytics' validator scores (y26::validate prepares its batches so).
  // `multi_label` (the NMS head): every class above conf is a candidate, as the validator's NMS takes them.
  std::vector<std::vector<Detection>> detect_letterboxed(const std::vector<Image>& inputs, bool multi_label = false);

  // Runs the network op by op on these images `iters` times (no CUDA graph; CUDA events or a
  // steady clock around each op) and returns each op's median time, in execution order.
  std::vector<OpTiming> profile(const std::vector<Image>& images, int iters);

  const std::vector<std::string>& class_names() const;
  const Options& options() const;
  // The model's task: "detect" (Detection's axis-aligned boxes), "obb" (oriented boxes, Detection::obb),
  // "pose" (boxes with Detection::keypoints), "segment" (boxes with Detection::mask) or "classify"
  // (classify()'s probabilities).
  std::string task() const;
  // A pose model's kpt_shape: keypoints per object and values per keypoint (2: x y, 3: x y visibility);
  // {0, 0} for other tasks.
  std::array<int, 2> keypoint_shape() const;
  std::string device() const;       // where it runs, e.g. "cpu (2 threads)" or "cuda:0 (NVIDIA H100 80GB HBM3)"
  // Device bytes the engine holds — weights, arenas, workspaces, as `memory_report` plans them —
  // counted at each allocation; 0 on the CPU. The staging for raw input pixels (sized by the
  // largest call so far) is not included.
  std::int64_t device_bytes() const;
  // Device memory in use on the engine's GPU as the driver reports it (all processes); 0 on the CPU.
  std::int64_t device_memory_used() const;
  std::string device_note() const;  // why that device was chosen, "" when it was asked for
  Timing last_timing() const;

  // The graph for an input of height x width (multiples of 32).
  GraphSummary summary(int height, int width) const;
  // The memory plan for `batch` images letterboxed to height x width (multiples of 32).
  MemoryReport memory_report(int batch, int height, int width) const;
  // The roofline of this model's graph for one input shape and batch on `gpu` (no device needed).
  RooflineReport roofline(int batch, int height, int width, const GpuLimits& gpu) const;
  // The largest batch whose engine memory (arena + weights + workspace) fits in budget_bytes; 0 if none.
  int max_batch_for_budget(std::int64_t budget_bytes, int height, int width) const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Validation on a labelled YOLO dataset as `yolo val` computes it (Ultralytics 8.4.190): the split's images
// in rectangular batches (ordered by aspect ratio, long side to the engine's imgsz, padded to the batch's
// shape), every detection the engine's conf, iou and max_det keep (Ultralytics' val defaults: conf 0.001,
// iou 0.7, max_det 300; the NMS head's candidates multi-label), scored against the labels at IoU 0.50:0.95
// into precision, recall, mAP50 and mAP50-95 per class and overall.
struct ValOptions {
  std::string data;           // the dataset's data.yaml
  std::string split = "val";  // "val", "test", "train" or "minival"
  int batch = 16;             // images per batch (it sets the batches' shapes, as Ultralytics' --batch)
  std::string save_json;      // when set, the detections in COCO's results format are written there
  // Called after every batch with the images done and the total.
  std::function<void(int done, int total)> progress;
};
struct ValClassResult {
  int cls = 0;
  std::string name;
  int images = 0, instances = 0;  // images holding this class, and its labels
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0;
};
struct ValResult {
  std::string split;
  std::vector<std::string> files;  // the images scored, in the order they ran (by aspect ratio)
  int images = 0, instances = 0;
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0;  // means over the classes with labels
  std::vector<ValClassResult> classes;                        // the classes with labels
  std::vector<double> maps;  // per class id: its mAP50-95, the overall one where it has no labels
  // As Ultralytics counts label files: found, missing (background images), empty, and corrupt pairs
  // (an unreadable image or a malformed label file: the image is left out, with a warning)
  int labels_found = 0, labels_missing = 0, labels_empty = 0, corrupt = 0;
  std::vector<std::string> warnings;
  double preprocess_ms = 0, inference_ms = 0, postprocess_ms = 0;  // per image
};
// Throws a y26::Error naming the file for a dataset that cannot be read, or whose classes are not the model's.
ValResult validate(Engine& engine, const ValOptions& options);

// Draws masks (translucent), boxes, keypoints and "name score" labels onto the image.
void draw_detections(Image& image, const std::vector<Detection>& detections, const std::vector<std::string>& class_names);

// Writes the `top` most probable classes, "name 0.87" a line each, at the image's top-left corner.
void draw_classification(Image& image, const Classification& classification, const std::vector<std::string>& class_names,
                         int top = 5);

// Writes a .jpg/.jpeg (quality 95), .png or .bmp file through a temporary file renamed into
// place, so a failure never leaves a partial image. Throws Error naming the path.
void save_image(const Image& image, const std::string& path);

// ---- Video and streams ----
// Video files (whatever FFmpeg reads: mp4, mkv, avi, webm, ...), rtsp:// and http(s):// streams and V4L2
// cameras (/dev/videoN) are read through FFmpeg's libraries, which y26 loads at run time (libavformat.so.59
// and its siblings, FFmpeg 5.1's); a y26 built without FFmpeg's headers (Y26_VIDEO=OFF), or run where the
// libraries are not installed, says so in a y26::Error. Raw frames need no FFmpeg.

// Whether this build and machine can read and write video files and streams; *why says why not.
bool video_available(std::string* why = nullptr);

struct VideoInfo {
  std::string source;          // as given to VideoSource::open
  std::string codec;           // FFmpeg's decoder name ("h264", "vp9", ...); "rawvideo" for raw frames
  int width = 0, height = 0;
  double fps = 0;              // the stream's average frame rate (0 when it does not say)
  // frames as the container counts them (or its duration times fps, where it counts none); -1 when
  // unknown (streams, cameras, pipes)
  std::int64_t frames = -1;
  double duration_s = -1;      // -1 when unknown
};

// One decoded frame: its RGB pixels, its index in the source (0, 1, ...: every frame decoded counts) and
// its presentation time in seconds from the source's start.
struct VideoFrame {
  Image image;
  std::int64_t index = 0;
  double timestamp_s = 0;
};

struct VideoSourceOptions {
  // Raw frames: when raw_width and raw_height are set, the source is a file ("-": standard input) of
  // rgb24 frames of that size back to back, timed at raw_fps.
  int raw_width = 0, raw_height = 0;
  double raw_fps = 30;
  int threads = 0;  // decoder threads (FFmpeg's frame and slice threads); 0: one per hardware thread
};

// A video file, stream, camera or raw frames, decoded frame by frame into RGB. Not thread-safe.
class VideoSource {
 public:
  // Throws Error naming the source when it cannot be opened or holds no video stream, or when it has a
  // pixel format or size y26 cannot take (frames above kMaxImagePixels).
  static VideoSource open(const std::string& source, const VideoSourceOptions& options = {});
  VideoSource(VideoSource&&) noexcept;
  VideoSource& operator=(VideoSource&&) noexcept;
  ~VideoSource();
  const VideoInfo& info() const;
  // The next frame, in presentation order; false at the end. A source that breaks off (a corrupt or
  // truncated file, a dropped stream, a partial raw frame) throws Error naming it and the frame it stopped at.
  bool read(VideoFrame& frame);

  struct Impl;  // opaque: one implementation per kind of source (video/source_impl.h)

 private:
  explicit VideoSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An mp4 video written frame by frame, under a temporary name in the same folder that finish() renames
// into place: a failure or an unfinished writer never leaves a partial file under `path`. Not thread-safe.
class VideoWriter {
 public:
  // H.264 (libx264; yuv420p, or yuv444p for an odd width or height) where FFmpeg has it, else the best
  // encoder it has for mp4 (MPEG-4 Part 2); `codec` names another FFmpeg encoder (and `path` then the
  // container, by its extension: "png" into .avi or .mkv is lossless RGB). Throws Error naming the path.
  static VideoWriter create(const std::string& path, int width, int height, double fps, const std::string& codec = "");
  VideoWriter(VideoWriter&&) noexcept;
  VideoWriter& operator=(VideoWriter&&) noexcept;
  ~VideoWriter();  // unfinished: the temporary file is removed
  void write(const Image& frame);  // frames of the writer's size; throws Error naming the path
  void finish();                   // the trailer written, the file renamed to `path`
  std::string codec() const;       // the encoder in use, e.g. "libx264"
  std::int64_t frames() const;     // written so far

 private:
  struct Impl;
  explicit VideoWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// detect_stream's pipeline: the source decoded on a thread of its own, frames batched for the engine on
// the calling thread, results handed to on_frame on a third, connected by bounded queues (queue_frames
// each), so memory stays constant whatever the video's length and throughput approaches the slowest stage.
struct StreamOptions {
  int batch = 1;              // frames per engine call
  int vid_stride = 1;         // every vid_stride-th frame is detected (the others are decoded and dropped)
  std::int64_t max_frames = 0;  // stop after this many detected frames; 0: the whole source
  int queue_frames = 0;       // frames each queue holds at most; 0: twice the batch
  // Checked between frames: once it reads true, the stream ends as if the source had (a live camera or
  // stream never ends by itself; y26 detect sets it on Ctrl-C so its video is still finalised).
  const std::atomic<bool>* stop = nullptr;
};

// One detected frame. `image` is the frame's own: on_frame may move it away (to draw and encode it).
struct StreamFrame {
  VideoFrame frame;
  std::vector<Detection> detections;  // every task but classify
  Classification classification;      // task "classify"
};

struct StreamResult {
  std::int64_t frames = 0;   // frames handed to on_frame
  std::int64_t decoded = 0;  // frames read from the source (vid_stride's skipped ones included)
  std::string stopped;       // "" when the source ended (or max_frames was reached); else why it broke off
  double seconds = 0;
};

// Runs the engine over a source's frames, in order, calling on_frame(frame) once per detected frame on a
// thread of its own (one call at a time). A source that breaks off midway ends the stream with the frames
// before it delivered and StreamResult::stopped saying where and why; an exception from on_frame or the
// engine stops the pipeline and is rethrown.
StreamResult detect_stream(Engine& engine, VideoSource& source, const StreamOptions& options,
                           const std::function<void(StreamFrame&)>& on_frame);

// Library version, "major.minor.patch".
const char* version();

// What this build of y26 can use on this machine, as (what, answer) pairs for `y26 env`: the backends
// compiled in (and the GPU architectures), the GPUs the CUDA backend sees or why none, the emulator, and
// the cuDNN baseline (the library loaded, or where it was looked for).
std::vector<std::pair<std::string, std::string>> environment();

}  // namespace y26
