// y26::Engine: one graph, plan and arena per input shape and batch (built on first use, then reused) on
// the CPU reference backend or a CUDA backend (a GPU, or the emulator), Ultralytics pre- and
// post-processing around it.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "common/half.h"
#include "graph/yolo26.h"
#include "kernels/cuda/cuda_ops.h"
#include "loader/weight_map.h"
#include "memory/planner.h"
#include "runtime/classify.h"
#include "runtime/cpu_executor.h"
#include "runtime/device_selection.h"
#include "runtime/letterbox.h"
#include "runtime/masks.h"
#include "runtime/obb.h"
#include "runtime/pose.h"
#include "runtime/postprocess.h"
#include "runtime/roofline.h"
#include "runtime/gpu_backend.h"
#include "y26/y26.h"

namespace y26 {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Options::imgsz 0: the size the checkpoint was trained at (its train_args, as Ultralytics' Model keeps
// imgsz from them for predict and val), else 640.
int model_imgsz(const WeightMap& w) {
  const auto it = w.meta.extra.find("train_args.imgsz");
  if (it != w.meta.extra.end()) {
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (end != it->second.c_str() && *end == '\0' && v >= 32 && v <= 8192) return static_cast<int>(v);
  }
  return 640;
}

int round_up_to_stride(int v) {
  return std::max(graph::kMaxStride, (v + graph::kMaxStride - 1) / graph::kMaxStride * graph::kMaxStride);
}

// The images of a call, each with pixels of its stated size; `who` names the call in the error.
void check_pixels(const std::vector<Image>& images, const char* who) {
  for (const Image& im : images)
    if (im.width <= 0 || im.height <= 0 || im.rgb.size() != static_cast<size_t>(im.width) * im.height * 3)
      throw Error(std::string(who) + ": an image has no pixels or a pixel buffer of the wrong size");
}

std::vector<const Image*> pointers(const std::vector<Image>& images) {
  std::vector<const Image*> ptrs;
  for (const Image& im : images) ptrs.push_back(&im);
  return ptrs;
}

// The head output of the first `n` images of a GPU run, as floats, image after image.
std::vector<float> gpu_heads(const runtime::GpuExecutor& gpu, size_t n) {
  std::vector<float> head;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<float> rows = gpu.head_image(static_cast<int>(i));
    head.insert(head.end(), rows.begin(), rows.end());
  }
  return head;
}

// Sessions kept at once: a validation runs a handful of batch shapes, each with an arena; the least
// recently used is dropped beyond this.
constexpr size_t kMaxSessions = 4;

// How Engine::Impl::run treats its images: letterboxed by it (detect) or already (detect_letterboxed: boxes
// stay in the input's pixels, selected on the host, multi-label NMS when asked).
struct RunMode {
  bool letterboxed = false;
  bool multi_label = false;
};

// Options::kernels made definite for the device: "auto" is "y26" on the GPU, "fast" on the CPU (but
// "reference" for FP16 storage, the oracle mode, which only the reference kernels have).
std::string resolve_kernels(const std::string& asked, const runtime::GpuBackend* gpu, Precision precision) {
  const bool fp16 = precision == Precision::FP16;
  // auto on the CPU: the fast set where the CPU has AVX2 or AVX-512; on a CPU with SSE only it measured
  // slower than the reference (yolo26n at 640, 2 threads: ~110 vs ~85 ms), which then runs instead.
  if (asked == "auto") {
    if (gpu) return "y26";
    return fp16 || kernels::cpu::fast::detect_isa() == kernels::cpu::fast::Isa::Baseline ? "reference" : "fast";
  }
  const bool cpu_set = asked == "fast" || asked == "reference";
  const bool gpu_set = asked == "y26" || asked == "cudnn" || asked == "cudnn-conv";
  if (!cpu_set && !gpu_set)
    throw Error("--kernels " + asked + ": expected auto, fast or reference (CPU), y26, cudnn or cudnn-conv (GPU)");
  if (gpu && cpu_set) throw Error("--kernels " + asked + ": a CPU kernel set; the CUDA backend runs y26, cudnn or cudnn-conv");
  if (!gpu && gpu_set)
    throw Error("--kernels " + asked + ": needs the CUDA backend (--device cuda); the CPU runs fast or reference");
  if (!gpu && fp16 && asked == "fast")
    throw Error("--kernels fast: FP32 only; FP16 storage on the CPU (--precision fp16) is the reference kernels' oracle mode");
  if (gpu && asked != "y26") {
    std::string no_cudnn;
    if (!gpu->has_cudnn(&no_cudnn)) throw Error("--kernels " + asked + ": " + no_cudnn);
  }
  return asked;
}

struct Session {
  std::uint64_t last_use = 0;
  graph::Graph graph;
  std::unique_ptr<runtime::CpuExecutor> exec;  // CPU backend
  std::unique_ptr<runtime::GpuExecutor> gpu;   // CUDA backend
};

}  // namespace

struct Engine::Impl {
  std::shared_ptr<const WeightMap> weights_ptr;  // shared by Engine::share()
  const WeightMap& weights() const { return *weights_ptr; }
  Options options;
  std::vector<std::string> names;
  graph::Task task = graph::Task::Detect;  // the head built: Detect, Obb, Pose or Classify
  std::array<int, 2> kpt_shape{0, 0};
  std::string device_note;
  const runtime::GpuBackend* backend = nullptr;  // a CUDA backend (GPU or emulator), else the CPU
  bool cuda() const { return backend != nullptr; }
  int cuda_device = 0;
  std::string cuda_name;
  std::unique_ptr<kernels::cpu::ThreadPool> pool;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Session>> sessions;  // (h, w, batch)
  std::uint64_t session_clock = 0;
  Timing timing;

  std::shared_ptr<const runtime::GpuWeights> device_weights;  // uploaded once, shared by sessions and shares

  graph::Graph build(int h, int w) const { return graph::build_yolo26(weights(), {h, w, !options.nms}); }

  Session& session(int h, int w, int batch) {
    const std::tuple<int, int, int> key{h, w, batch};
    if (sessions.count(key) == 0 && sessions.size() >= kMaxSessions) {
      auto oldest = std::min_element(sessions.begin(), sessions.end(),
                                     [](const auto& a, const auto& b) { return a.second->last_use < b.second->last_use; });
      sessions.erase(oldest);
    }
    auto& s = sessions[key];
    if (s) {
      s->last_use = ++session_clock;
    } else {
      s = std::make_unique<Session>();
      s->last_use = ++session_clock;
      s->graph = build(h, w);
      if (cuda()) {
        if (!device_weights) device_weights = backend->upload(s->graph);
        s->gpu = backend->executor(s->graph, runtime::gpu_plan(s->graph, batch), device_weights, device_selection(s->graph),
                                   options.kernels == "cudnn"        ? runtime::ConvKernels::Cudnn
                                   : options.kernels == "cudnn-conv" ? runtime::ConvKernels::CudnnConvOnly
                                                                     : runtime::ConvKernels::Y26);
        return *s;
      }
      const bool fp16 = options.precision == Precision::FP16;
      // FP16 on the CPU follows the CUDA backend's numerics: activations and the folded weights rounded to
      // FP16 as it stores them (biases stay FP32, as there), so the two differ only in summation order.
      if (fp16)
        for (auto& cw : s->graph.conv_weights)
          for (float& v : cw.w) v = round_to_half(v);
      s->exec = std::make_unique<runtime::CpuExecutor>(
          s->graph, memory::plan_memory(s->graph, batch), *pool, fp16,
          options.kernels == "fast" ? runtime::CpuKernels::Fast : runtime::CpuKernels::Reference);
      if (options.kernels == "fast") {  // packed: the session's FP32 copy of the weights is not read again
        for (auto& cw : s->graph.conv_weights) std::vector<float>().swap(cw.w);
      }
    }
    return *s;
  }

  runtime::DeviceSelection device_selection(const graph::Graph& g) const {
    return runtime::choose_device_selection(g.head, options.conf, options.iou, options.max_det);
  }

  static bool same_size(const std::vector<Image>& images) {
    return std::all_of(images.begin(), images.end(),
                       [&](const Image& im) { return im.width == images[0].width && im.height == images[0].height; });
  }
  // Minimal padding ("rect") when asked, or by default when every image of the call has one size.
  bool wants_rect(const std::vector<Image>& images) const {
    return options.letterbox == LetterboxMode::Rect || (options.letterbox == LetterboxMode::Auto && same_size(images));
  }

  MemoryReport report(const graph::Graph& g, int batch) const {
    if (batch <= 0) throw Error("--batch " + std::to_string(batch) + ": must be positive");
    const std::int64_t es = options.precision == Precision::FP16 ? 2 : 4;
    // FP16: the CUDA backend's plan (concurrent branches at small batch), else the CPU's
    const memory::Plan p = es == 2 ? runtime::gpu_plan(g, batch) : memory::plan_memory(g, batch);
    MemoryReport r;
    r.dtype = es == 2 ? "float16" : "float32";
    r.execution = p.execution == memory::Execution::Concurrent ? "concurrent" : "sequential";
    r.batch = batch;
    r.height = g.input_h;
    r.width = g.input_w;
    r.arena_bytes = p.arena * es;
    r.lower_bound_bytes = p.lower_bound * es;
    r.naive_bytes = p.naive * es;
    if (es == 2) {  // exactly what the CUDA backend allocates (FP16 weights in kernel layout, FP32 bias)
      for (const auto& w : g.conv_weights)
        r.weights_bytes += kernels::cuda::device_weight_bytes(w.kh, w.kw, w.cin, w.cout, w.groups);
    } else if (options.kernels == "fast") {  // the fast kernels' packed panels replace the folded weights
      r.weights_bytes = runtime::CpuExecutor::fast_weight_bytes(g);
      r.workspace_bytes = runtime::CpuExecutor::fast_scratch_bytes(g, pool ? pool->size() : 1);
    } else {
      r.weights_bytes = g.parameter_count() * es;
    }
    // The GPU's post-processing scratch and results and the convolutions' split-K scratch; the fast CPU
    // kernels' per-thread scratch (a packed row, attention scores); the reference kernels' per-row buffers
    // are not counted.
    if (es == 2) r.workspace_bytes = runtime::workspace_layout(g, p, device_selection(g)).total;
    for (size_t i = 0; i < g.buffers.size(); ++i) {
      const auto& b = g.buffers[i];
      const auto& bp = p.buffers[i];
      r.tensors.push_back({b.name, b.h, b.w, b.c, bp.offset * es, bp.size * es, bp.first, bp.last});
    }
    return r;
  }

  // An oriented box in original pixels (`as_is`: already mapped on the device, or wanted letterboxed), x1..y2
  // its corners' bounds.
  static Detection rotated_detection(const runtime::RawDetection& r, bool as_is, int h, int w, const Image& im) {
    runtime::RotatedBox b{r.box[0], r.box[1], r.box[2], r.box[3], r.angle};
    if (!as_is) runtime::scale_rotated_to_original(b, h, w, im.height, im.width);
    Detection d{r.cls, r.score};
    d.obb = true;
    d.cx = b.cx, d.cy = b.cy, d.w = b.w, d.h = b.h, d.angle = b.angle;
    const auto c = d.corners();
    d.x1 = std::min({c[0][0], c[1][0], c[2][0], c[3][0]}), d.x2 = std::max({c[0][0], c[1][0], c[2][0], c[3][0]});
    d.y1 = std::min({c[0][1], c[1][1], c[2][1], c[3][1]}), d.y2 = std::max({c[0][1], c[1][1], c[2][1], c[3][1]});
    return d;
  }

  void require_task(bool classify, const char* call) const {
    if ((task == graph::Task::Classify) == classify) return;
    throw Error(std::string(call) + ": the model's task is " + graph::task_name(task) +
                (classify ? ", not classify: use detect()" : ": use classify(), or y26 detect, which classifies it"));
  }

  // Classification: each image resized and centre-cropped on the host (Pillow's arithmetic), the crops run
  // as already letterboxed inputs (imgsz x imgsz), the logits' softmax on the host.
  std::vector<Classification> classify(const std::vector<const Image*>& images) {
    const auto t0 = Clock::now();
    const int size = options.imgsz;
    std::vector<Image> crops;
    std::vector<const Image*> inputs;
    std::vector<runtime::Letterbox> lbs;
    for (const Image* im : images) crops.push_back(runtime::classify_transform(*im, size));
    for (const Image& c : crops) {
      inputs.push_back(&c);
      lbs.push_back(runtime::letterbox_params(size, size, size, size, false, graph::kMaxStride));  // as it is
    }
    if (cuda()) backend->select_device(cuda_device);
    Session& s = session(size, size, static_cast<int>(images.size()));
    std::vector<float> logits;
    Clock::time_point t1, t2;
    double device_ms = 0;
    if (s.gpu) {
      t1 = Clock::now();
      s.gpu->run(inputs, lbs, pool.get());
      t2 = Clock::now();
      device_ms = s.gpu->last_device_ms();
      logits = gpu_heads(*s.gpu, images.size());
    } else {
      const auto input = s.exec->view(s.graph.whole(s.graph.input));
      for (size_t i = 0; i < crops.size(); ++i)
        runtime::to_input(runtime::letterbox_u8(crops[i], lbs[i]), input, static_cast<int>(i), s.exec->round_fp16());
      t1 = Clock::now();
      s.exec->run();
      t2 = Clock::now();
      const auto head = s.exec->view(s.graph.whole(s.graph.head.output));
      for (size_t i = 0; i < images.size(); ++i) {
        const float* row = head.data + static_cast<std::int64_t>(i) * head.image_stride;
        logits.insert(logits.end(), row, row + s.graph.head.nc);
      }
    }
    std::vector<Classification> out(images.size());
    const int nc = s.graph.head.nc;
    for (size_t i = 0; i < images.size(); ++i) out[i].probs = runtime::softmax(logits.data() + i * static_cast<size_t>(nc), nc);
    timing = {std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count(), ms_since(t2), device_ms};
    return out;
  }

  // A pose head's selected detections get their anchors' keypoints (in input pixels) from the head rows.
  static void decode_keypoints(std::vector<runtime::RawDetection>& dets, const float* rows, std::int64_t row_stride,
                               const graph::Head& head) {
    if (head.task != graph::Task::Pose) return;
    for (auto& d : dets) d.keypoints = runtime::decode_keypoints(rows + d.anchor * row_stride, d.anchor, head);
  }

  // Segmentation: each detection's mask logits (the CPU from the head rows and the prototypes in its arena,
  // the GPU on the device: kernels::cuda::mask_logits), assembled on the host (runtime/masks.h) in the
  // original image's pixels (the input's, letterboxed). A detection whose mask is empty is dropped, as
  // Ultralytics' predictor drops it.
  void attach_masks(Session& s, const std::vector<const Image*>& images,
                    const std::vector<std::vector<runtime::RawDetection>>& raw, std::vector<std::vector<Detection>>& out,
                    bool letterboxed) {
    const graph::Head& head = s.graph.head;
    const graph::Buffer& pb = s.graph.buffers[static_cast<size_t>(head.protos)];
    const std::int64_t pixels = static_cast<std::int64_t>(pb.h) * pb.w;
    std::vector<std::pair<int, int>> dets;  // (image, detection) of each request
    for (size_t i = 0; i < raw.size(); ++i)
      for (size_t j = 0; j < raw[i].size(); ++j) {
        if (raw[i][j].anchor < 0 || raw[i][j].anchor >= head.anchors()) throw Error("detect: a segmentation detection lost its anchor");
        dets.emplace_back(static_cast<int>(i), static_cast<int>(j));
      }
    std::vector<float> logits;
    if (s.gpu) {
      std::vector<kernels::cuda::MaskRequest> requests;
      for (const auto& [i, j] : dets) requests.push_back({i, raw[static_cast<size_t>(i)][static_cast<size_t>(j)].anchor});
      logits = s.gpu->mask_logits(requests);
    } else {
      logits.resize(dets.size() * static_cast<size_t>(pixels));
      const auto rows = s.exec->view(s.graph.whole(head.output));
      const auto protos = s.exec->view(s.graph.whole(head.protos));
      pool->parallel_for(static_cast<std::int64_t>(dets.size()), [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t k = b; k < e; ++k) {
          const auto [i, j] = dets[static_cast<size_t>(k)];
          const int anchor = raw[static_cast<size_t>(i)][static_cast<size_t>(j)].anchor;
          runtime::mask_logits(rows.data + i * rows.image_stride + anchor * rows.pixel_stride + head.extra_channel(), head.extra,
                               protos.data + i * protos.image_stride, protos.pixel_stride, pixels, logits.data() + k * pixels);
        }
      });
    }
    std::vector<std::vector<Detection>> kept(out.size());
    std::vector<std::optional<Mask>> masks(dets.size());
    pool->parallel_for(static_cast<std::int64_t>(dets.size()), [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t k = b; k < e; ++k) {
        const auto [i, j] = dets[static_cast<size_t>(k)];
        const Image& im = *images[static_cast<size_t>(i)];
        const runtime::MaskFrame f{pb.h, pb.w, s.graph.input_h, s.graph.input_w, im.height, im.width};
        const Detection& d = out[static_cast<size_t>(i)][static_cast<size_t>(j)];
        const float image_box[4] = {d.x1, d.y1, d.x2, d.y2};
        masks[static_cast<size_t>(k)] = runtime::assemble_mask(logits.data() + k * pixels, f,
                                                               raw[static_cast<size_t>(i)][static_cast<size_t>(j)].box, image_box,
                                                               options.retina_masks && !letterboxed);
      }
    });
    for (size_t k = 0; k < dets.size(); ++k) {
      if (!masks[k]) continue;
      const auto [i, j] = dets[k];
      kept[static_cast<size_t>(i)].push_back(std::move(out[static_cast<size_t>(i)][static_cast<size_t>(j)]));
      kept[static_cast<size_t>(i)].back().mask = std::move(*masks[k]);
    }
    out = std::move(kept);
  }

  std::vector<std::vector<Detection>> run(const std::vector<const Image*>& images, bool rect, RunMode mode = {}) {
    require_task(false, mode.letterboxed ? "detect_letterboxed" : "detect");
    const auto t0 = Clock::now();
    const int imgsz = options.imgsz;
    std::vector<runtime::Letterbox> lbs;
    for (const Image* im : images)
      lbs.push_back(mode.letterboxed ? runtime::letterbox_params(im->width, im->height, im->height, im->width, false, graph::kMaxStride)
                                     : runtime::letterbox_params(im->width, im->height, imgsz, imgsz, rect, graph::kMaxStride));
    const int h = lbs[0].out_h(), w = lbs[0].out_w();
    // The calling thread may not be the one that loaded the engine (an engine per thread, from share()).
    if (cuda()) backend->select_device(cuda_device);
    Session& s = session(h, w, static_cast<int>(images.size()));
    const runtime::SelectOptions sel{options.conf, options.iou, options.max_det, mode.multi_label};
    std::vector<std::vector<runtime::RawDetection>> raw(images.size());  // letterboxed pixels, best first
    std::vector<float> head_rows;  // GPU with host selection: the FP16 head output as floats
    const float* head_data = nullptr;
    std::int64_t image_stride = 0, row_stride = 0;
    Clock::time_point t1, t2;
    double device_ms = 0;
    std::vector<char> mapped(images.size(), 0);  // boxes already in original pixels (mapped on the device)
    if (s.gpu) {
      t1 = Clock::now();  // pre-processing runs on the GPU, inside run()
      s.gpu->run(images, lbs, pool.get());
      t2 = Clock::now();
      device_ms = s.gpu->last_device_ms();
      if (mode.letterboxed) {  // the head of every image, selected on the host: unmapped, unclipped boxes
        const auto& hb = s.graph.buffers[static_cast<size_t>(s.graph.head.output)];
        head_rows = gpu_heads(*s.gpu, images.size());
        head_data = head_rows.data(), image_stride = hb.elements(), row_stride = hb.c;
      } else if (s.gpu->device_selection()) {  // selected and mapped on the device: rows per image, best first
        const int k = s.gpu->selected_rows(), row_floats = s.gpu->selected_row_floats();
        const auto extras = device_selection(s.graph).extras;  // what the rows carry after the class
        for (size_t i = 0; i < images.size(); ++i) {
          const float* rows = s.gpu->host_selected() + static_cast<std::int64_t>(i) * k * row_floats;
          const int n = s.gpu->nms_selection() ? s.gpu->host_counts()[i] : k;
          if (n < 0) {  // the device's NMS candidates ran out (kernels/cuda/cuda_ops.h): exact NMS on the host
            const std::vector<float> head = s.gpu->head_image(static_cast<int>(i));
            raw[i] = runtime::select_nms(head.data(), s.graph.head.row(), s.graph.head, sel);
            decode_keypoints(raw[i], head.data(), s.graph.head.row(), s.graph.head);
            continue;
          }
          mapped[i] = 1;
          for (int j = 0; j < n && static_cast<int>(raw[i].size()) < options.max_det; ++j) {
            const float* r = rows + j * row_floats;
            if (!(r[4] > options.conf)) break;  // sorted: nothing after passes either
            raw[i].push_back({{r[0], r[1], r[2], r[3]}, r[4], static_cast<int>(r[5])});
            if (extras.angle >= 0) raw[i].back().rotated = true, raw[i].back().angle = r[6];  // cx cy w h, then the angle
            for (int q = 0; extras.kpt_channel >= 0 && q < extras.kpt_n; ++q) {  // decoded and mapped on the device
              const float* p = r + 6 + q * extras.kpt_dim;
              raw[i].back().keypoints.push_back({p[0], p[1], extras.kpt_dim == 3 ? p[2] : 1.0f});
            }
          }
        }
      } else {
        head_rows.resize(static_cast<size_t>(s.gpu->head_elements()));
        for (size_t j = 0; j < head_rows.size(); ++j) head_rows[j] = half_to_float(s.gpu->host_head()[j]);
        const auto& hb = s.graph.buffers[static_cast<size_t>(s.graph.head.output)];
        head_data = head_rows.data(), image_stride = hb.elements(), row_stride = hb.c;
      }
    }
    if (s.exec) {
      const auto input = s.exec->view(s.graph.whole(s.graph.input));
      for (size_t i = 0; i < images.size(); ++i) {
        runtime::to_input(runtime::letterbox_u8(*images[i], lbs[i]), input, static_cast<int>(i), s.exec->round_fp16());
      }
      t1 = Clock::now();
      s.exec->run();
      t2 = Clock::now();
      const auto head = s.exec->view(s.graph.whole(s.graph.head.output));
      head_data = head.data, image_stride = head.image_stride, row_stride = head.pixel_stride;
    }
    if (head_data != nullptr) {  // selection on the host
      for (size_t i = 0; i < images.size(); ++i) {
        const float* rows = head_data + static_cast<std::int64_t>(i) * image_stride;
        raw[i] = s.graph.head.end2end ? runtime::select_end2end(rows, row_stride, s.graph.head, sel)
                                      : runtime::select_nms(rows, row_stride, s.graph.head, sel);
        decode_keypoints(raw[i], rows, row_stride, s.graph.head);
      }
    }
    std::vector<std::vector<Detection>> out(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
      for (const auto& r : raw[i]) {
        if (r.rotated) {
          out[i].push_back(rotated_detection(r, mapped[i] || mode.letterboxed, h, w, *images[i]));
          continue;
        }
        float box[4] = {r.box[0], r.box[1], r.box[2], r.box[3]};
        if (!mapped[i] && !mode.letterboxed) runtime::scale_box_to_original(box, h, w, images[i]->height, images[i]->width);
        out[i].push_back({r.cls, r.score, box[0], box[1], box[2], box[3]});
        if (s.graph.head.task == graph::Task::Pose) {
          auto kpts = r.keypoints;
          if (kpts.size() != static_cast<size_t>(s.graph.head.kpt_n)) throw Error("detect: a pose detection lost its keypoints");
          if (!mapped[i] && !mode.letterboxed) runtime::scale_keypoints_to_original(kpts, h, w, images[i]->height, images[i]->width);
          out[i].back().keypoints = std::move(kpts);
        }
      }
    }
    if (s.graph.head.task == graph::Task::Segment) attach_masks(s, images, raw, out, mode.letterboxed);
    timing = {std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count(), ms_since(t2), device_ms};
    return out;
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Engine Engine::load(const std::string& model_path, const Options& options) {
  if (options.imgsz < 0 || options.imgsz > 8192)
    throw Error("--imgsz " + std::to_string(options.imgsz) + ": must be in 1..8192 (or 0: the model's)");
  if (!(options.conf >= 0 && options.conf <= 1)) throw Error("--conf " + std::to_string(options.conf) + ": must be in [0, 1]");
  if (!(options.iou >= 0 && options.iou <= 1)) throw Error("--iou " + std::to_string(options.iou) + ": must be in [0, 1]");
  if (options.max_det <= 0) throw Error("--max-det " + std::to_string(options.max_det) + ": must be positive");
  if (options.threads < 0) throw Error("threads: must not be negative");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::string& dev = options.device;
  const bool want_cuda = dev.rfind("cuda", 0) == 0, want_emu = dev.rfind("emu", 0) == 0;
  if (dev != "auto" && dev != "cpu" && !want_cuda && !want_emu)
    throw Error("--device " + dev + ": expected auto, cpu, cuda, cuda:N or emu");
  const std::string kind = want_emu ? "emu" : "cuda";
  if (want_cuda || want_emu) {
    if (dev.size() > kind.size()) {
      if (dev[kind.size()] != ':') throw Error("--device " + dev + ": expected " + kind + " or " + kind + ":N");
      try {
        impl->cuda_device = std::stoi(dev.substr(kind.size() + 1));
      } catch (const std::exception&) {
        throw Error("--device " + dev + ": expected " + kind + " or " + kind + ":N");
      }
    }
  }
  const runtime::GpuBackend* backend = want_emu ? runtime::emulator_backend() : runtime::cuda_backend();
  if (dev == "auto" || want_cuda || want_emu) {
    std::string why;
    if (backend == nullptr) {
      why = want_emu ? "this build of y26 has no CUDA emulator (configured without the CUDA Toolkit headers or with "
                       "Y26_CUDA_EMU=OFF)"
                     : "this build of y26 has no CUDA backend (configured without nvcc or with Y26_CUDA=OFF)";
    } else if (backend->available(&why)) {
      try {
        backend->select_device(impl->cuda_device);
        impl->cuda_name = backend->device_name(impl->cuda_device);
        impl->backend = backend;
      } catch (const Error& e) {
        why = e.what();
      }
    }
    if (!impl->cuda() && dev != "auto") throw Error("--device " + dev + ": " + (why.empty() ? "no such device" : why));
    if (dev == "auto")
      impl->device_note = impl->cuda() ? "using cuda:" + std::to_string(impl->cuda_device) + " (" + impl->cuda_name + ")"
                                     : "using the CPU: " + why;
  }
  if (impl->cuda() && options.precision == Precision::FP32)
    throw Error("--precision fp32: the CUDA backend runs FP16 (use fp16 or auto)");
  if (impl->options.precision == Precision::Auto) impl->options.precision = impl->cuda() ? Precision::FP16 : Precision::FP32;
  impl->options.kernels = resolve_kernels(options.kernels, impl->cuda() ? impl->backend : nullptr, impl->options.precision);
  impl->weights_ptr = std::make_shared<const WeightMap>(load_weights(model_path));
  impl->options.imgsz = round_up_to_stride(options.imgsz != 0 ? options.imgsz : model_imgsz(impl->weights()));
  const graph::Graph first = impl->build(impl->options.imgsz, impl->options.imgsz);  // validates the whole model now
  if (impl->cuda()) impl->device_weights = impl->backend->upload(first);  // once, before any share()
  const int nc = impl->weights().meta.nc;
  const auto& names = impl->weights().meta.names;
  const graph::Graph probe = impl->build(graph::kMaxStride, graph::kMaxStride);
  const int head_nc = probe.head.nc;
  impl->task = probe.head.task;
  impl->kpt_shape = {probe.head.kpt_n, probe.head.kpt_dim};
  if (nc >= 0 && nc != head_nc)
    throw Error(model_path + ": metadata says " + std::to_string(nc) + " classes, the head has " +
                std::to_string(head_nc));
  for (int i = 0; i < head_nc; ++i) {
    auto it = names.find(i);
    impl->names.push_back(it != names.end() ? it->second : std::to_string(i));
  }
  impl->pool = std::make_unique<kernels::cpu::ThreadPool>(static_cast<unsigned>(options.threads));
  return Engine(std::move(impl));
}

std::vector<std::vector<Detection>> Engine::detect(const std::vector<Image>& images) {
  if (images.empty()) return {};
  check_pixels(images, "detect");
  const bool rect = impl_->wants_rect(images);
  if (rect && !Impl::same_size(images)) {
    // Minimal padding gives each size its own input shape: run them one by one.
    std::vector<std::vector<Detection>> out;
    for (const Image& im : images) out.push_back(impl_->run({&im}, true).front());
    return out;
  }
  return impl_->run(pointers(images), rect);
}

std::vector<std::vector<Detection>> Engine::detect_letterboxed(const std::vector<Image>& inputs, bool multi_label) {
  if (inputs.empty()) return {};
  check_pixels(inputs, "detect_letterboxed");
  const Image& first = inputs.front();
  for (const Image& im : inputs) {
    if (im.width != first.width || im.height != first.height)
      throw Error("detect_letterboxed: the images differ in size (" + std::to_string(first.width) + "x" +
                  std::to_string(first.height) + " and " + std::to_string(im.width) + "x" + std::to_string(im.height) + ")");
  }
  if (first.width % graph::kMaxStride != 0 || first.height % graph::kMaxStride != 0)
    throw Error("detect_letterboxed: " + std::to_string(first.width) + "x" + std::to_string(first.height) +
                " is not a multiple of " + std::to_string(graph::kMaxStride));
  return impl_->run(pointers(inputs), false, {true, multi_label});
}

std::vector<Detection> Engine::detect(const Image& image) {
  return impl_->run({&image}, impl_->options.letterbox != LetterboxMode::Square).front();
}

std::vector<Classification> Engine::classify(const std::vector<Image>& images) {
  impl_->require_task(true, "classify");
  if (images.empty()) return {};
  check_pixels(images, "classify");
  return impl_->classify(pointers(images));
}

Classification Engine::classify(const Image& image) { return classify(std::vector<Image>{image}).front(); }

std::vector<OpTiming> Engine::profile(const std::vector<Image>& originals, int iters) {
  if (originals.empty() || iters <= 0) throw Error("profile: needs images and a positive iteration count");
  const bool classifier = impl_->task == graph::Task::Classify;
  // a classifier's network sees the centre crops, as they are
  std::vector<Image> crops;
  if (classifier)
    for (const Image& im : originals) crops.push_back(runtime::classify_transform(im, impl_->options.imgsz));
  const std::vector<Image>& images = classifier ? crops : originals;
  if (classifier) {
    classify(originals);  // builds the session for this shape and batch, runs it once
  } else {
    detect(images);
  }
  const bool rect = !classifier && impl_->wants_rect(images);
  std::vector<runtime::Letterbox> lbs;
  const int size = classifier ? images[0].height : impl_->options.imgsz;
  for (const Image& im : images)
    lbs.push_back(runtime::letterbox_params(im.width, im.height, size, size, rect, graph::kMaxStride));
  Session& s = impl_->session(lbs[0].out_h(), lbs[0].out_w(), static_cast<int>(images.size()));
  // The head output of detect()'s run: every profiled pass must compute it again, bit for bit, or it
  // timed other data than a detection's (the plan reuses the input's bytes after the first op, so each
  // pass starts by filling the input again, untimed).
  const auto head_of_run = [&] {
    if (s.gpu) return gpu_heads(*s.gpu, images.size());
    const auto v = s.exec->view(s.graph.whole(s.graph.head.output));
    return std::vector<float>(v.data, v.data + static_cast<std::int64_t>(images.size()) * v.image_stride);
  };
  const std::vector<float> expected = head_of_run();
  const size_t n = s.graph.nodes.size();
  std::vector<std::vector<double>> samples(n + 1);
  for (int it = 0; it < iters; ++it) {
    if (s.gpu) {  // time_ops() letterboxes the last run's staged pixels into the input again first
      const auto ms = s.gpu->time_ops();
      for (size_t i = 0; i < ms.size() && i <= n; ++i) samples[i].push_back(ms[i]);
      continue;
    }
    const auto input = s.exec->view(s.graph.whole(s.graph.input));
    for (size_t i = 0; i < images.size(); ++i)
      runtime::to_input(runtime::letterbox_u8(images[i], lbs[i]), input, static_cast<int>(i), s.exec->round_fp16());
    for (size_t i = 0; i < n; ++i) {
      const auto t = Clock::now();
      s.exec->run_node(i);
      samples[i].push_back(ms_since(t));
    }
  }
  const std::vector<float> got = head_of_run();
  if (std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)) != 0 || got.size() != expected.size())
    throw Error("profile: the profiled ops computed another head output than detect() (their input was not the images')");
  std::vector<OpTiming> out;
  for (size_t i = 0; i <= n; ++i) {
    if (samples[i].empty()) continue;
    auto& v = samples[i];
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    const bool post = i == n;
    std::string detail = post ? "" : graph::describe(s.graph, s.graph.nodes[i]);
    if (s.gpu && !post) detail += s.gpu->launch_detail(i);
    out.push_back({post ? "postprocess" : s.graph.nodes[i].name, post ? "Postprocess" : graph::op_name(s.graph.nodes[i].kind),
                   v[v.size() / 2], detail});
  }
  return out;
}

const std::vector<std::string>& Engine::class_names() const { return impl_->names; }
const Options& Engine::options() const { return impl_->options; }
std::string Engine::task() const { return graph::task_name(impl_->task); }
std::array<int, 2> Engine::keypoint_shape() const { return impl_->kpt_shape; }
std::string Engine::device() const {
  if (impl_->cuda())
    return std::string(impl_->backend->kind()) + ":" + std::to_string(impl_->cuda_device) + " (" + impl_->cuda_name + ")";
  const bool fast = impl_->options.kernels == "fast";
  return "cpu (" + std::to_string(impl_->pool->size()) + " threads, " +
         (fast ? std::string("fast kernels, ") + kernels::cpu::fast::isa_name(kernels::cpu::fast::detect_isa())
               : std::string("reference kernels")) +
         ")";
}

std::int64_t Engine::device_memory_used() const {
  return impl_->cuda() ? impl_->backend->memory_used() : 0;
}

std::int64_t Engine::device_bytes() const {
  std::int64_t n = 0;
  for (const auto& [key, s] : impl_->sessions) n += s->gpu ? s->gpu->device_bytes() : 0;
  if (impl_->device_weights) n += impl_->device_weights->bytes();
  return n;
}

Engine Engine::share() const {
  auto impl = std::make_unique<Impl>();
  impl->weights_ptr = impl_->weights_ptr;
  impl->options = impl_->options;
  impl->names = impl_->names;
  impl->task = impl_->task;
  impl->kpt_shape = impl_->kpt_shape;
  impl->device_note = impl_->device_note;
  impl->backend = impl_->backend;
  impl->cuda_device = impl_->cuda_device;
  impl->cuda_name = impl_->cuda_name;
  impl->device_weights = impl_->device_weights;
  impl->pool = std::make_unique<kernels::cpu::ThreadPool>(static_cast<unsigned>(impl_->options.threads));
  return Engine(std::move(impl));
}
std::string Engine::device_note() const { return impl_->device_note; }
Timing Engine::last_timing() const { return impl_->timing; }

MemoryReport Engine::memory_report(int batch, int height, int width) const {
  return impl_->report(impl_->build(height, width), batch);
}

RooflineReport Engine::roofline(int batch, int height, int width, const GpuLimits& gpu) const {
  if (batch <= 0) throw Error("roofline: batch must be positive");
  return runtime::roofline(impl_->build(height, width), batch, gpu);
}

GraphSummary Engine::summary(int height, int width) const {
  static const char* kTypes[24] = {"Conv", "Conv", "C3k2", "Conv", "C3k2", "Conv", "C3k2", "Conv", "C3k2", "SPPF", "C2PSA",
                                   "Upsample", "Concat", "C3k2", "Upsample", "Concat", "C3k2", "Conv", "Concat", "C3k2",
                                   "Conv", "Concat", "C3k2", "Detect"};
  static const char* kClassifierTypes[11] = {"Conv", "Conv", "C3k2", "Conv", "C3k2", "Conv", "C3k2", "Conv", "C3k2", "C2PSA", "Classify"};
  const graph::Graph g = impl_->build(height, width);
  const bool classifier = g.head.task == graph::Task::Classify;
  const int layers = classifier ? 11 : 24;
  GraphSummary s;
  s.height = height;
  s.width = width;
  s.ops = static_cast<int>(g.nodes.size());
  s.parameters = g.parameter_count();
  s.gflops = g.flops() / 1e9;
  s.num_classes = g.head.nc;
  s.end2end = g.head.end2end;
  for (int i = 0; i < layers; ++i) {
    LayerSummary l;
    l.index = i;
    l.type = classifier ? kClassifierTypes[i] : kTypes[i];
    if (i == layers - 1 && !classifier) {  // the head's own module (Segment26 also builds Proto26's prototypes)
      l.type = g.head.task == graph::Task::Segment ? "Segment" : g.head.task == graph::Task::Pose ? "Pose"
             : g.head.task == graph::Task::Obb   ? "OBB" : "Detect";
    }
    for (const auto& n : g.nodes) {
      if (n.layer != i) continue;
      ++l.ops;
      if (n.kind == graph::OpKind::Conv) {
        const auto& w = g.conv_weights[static_cast<size_t>(n.weights)];
        l.parameters += static_cast<std::int64_t>(w.w.size() + w.bias.size());
      }
    }
    const auto& out = i < layers - 1 ? g.layer_outputs[static_cast<size_t>(i)] : std::optional<graph::Slice>(g.whole(g.head.output));
    if (out) l.height = out->h, l.width = out->w, l.channels = out->c;
    s.layers.push_back(l);
  }
  return s;
}

int Engine::max_batch_for_budget(std::int64_t budget_bytes, int height, int width) const {
  const graph::Graph g = impl_->build(height, width);
  auto fits = [&](int b) { return impl_->report(g, b).total_bytes() <= budget_bytes; };
  // Small batches may be planned for concurrent branches (more memory than graph order would need), so
  // bytes need not grow monotonically up to there: try those one by one. From there on they do.
  const int first_sequential = runtime::kConcurrentMaxBatch + 1;
  int best = 0;
  for (int b = 1; b < first_sequential; ++b)
    if (fits(b)) best = b;
  if (!fits(first_sequential)) return best;
  int lo = first_sequential, hi = 2 * first_sequential;
  while (hi <= (1 << 20) && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {  // fits(lo), !fits(hi)
    const int mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace y26
