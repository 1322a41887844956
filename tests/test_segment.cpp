// Segmentation (Segment26 with Proto26) against Ultralytics 8.4.190: the fixture yolo26n-seg-rand (weights/
// make_task_goldens.py --task seg: 3 classes, 32 prototypes, seeded random weights conditioned like the
// detection fixtures, the prototypes centred so that masks cross zero inside their boxes: FP32 vs FP64 moves
// its scores by 2.3e-7, its prototypes by 2.1e-5 and its coefficients by 5.5e-6 of their spread). The graph
// builds the prototype branch (feat_refine, the upsample-adds, ConvTranspose2d as a 1x1 conv and a
// depth-to-space) beside the head; the CPU engine's raw heads and prototypes match the goldens at 256; its
// masks match `yolo predict`'s at 640 (the default and retina_masks, both heads, both scenes).
//
// Tolerances: raw outputs 1e-4 relative, as the detection parity tests. Masks: IoU >= 0.99 per instance (the
// issue's bound; measured 2026-12-04: every mask of the 10 runs pixel-identical, IoU 1). A mask pixel flips
// only where its logit is within the FP32 rounding of the logits (~1e-5 of their spread) of 0, and a
// flipped pixel moves IoU by 1 / area: the fixture's smallest masks have ~50 pixels.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>

#include "graph/task.h"
#include "graph/yolo26.h"
#include "memory/planner.h"
#include "runtime/cpu_executor.h"
#include "runtime/letterbox.h"
#include "runtime/masks.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"
#include "tests/support/head_goldens.h"
#include "tests/support/predict_run.h"
#include "y26/y26.h"

using namespace y26;
using nlohmann::json;

namespace {

const char* kModel = "yolo26n-seg-rand";
constexpr int kNm = 32;

// A golden mask (make_task_goldens.py's mask_runs: row-major runs, zeros first) as h x w bytes.
std::vector<std::uint8_t> from_runs(const json& runs, int h, int w) {
  std::vector<std::uint8_t> m(static_cast<size_t>(h) * w, 0);
  size_t pos = 0;
  std::uint8_t v = 0;
  for (const auto& r : runs) {
    const auto n = r.get<size_t>();
    REQUIRE(pos + n <= m.size());
    std::fill_n(m.begin() + static_cast<std::ptrdiff_t>(pos), n, v);
    pos += n, v ^= 1;
  }
  REQUIRE(pos == m.size());
  return m;
}

// A Mask as the h x w frame it lies in.
std::vector<std::uint8_t> frame_of(const Mask& m, int h, int w) {
  std::vector<std::uint8_t> f(static_cast<size_t>(h) * w, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) f[static_cast<size_t>(y) * w + x] = m.contains(x, y) ? 1 : 0;
  return f;
}

// A mask of Ultralytics' default (the input's frame, ih x iw) at the original image's pixel centres: the
// letterbox's gain and padding as ops.scale_boxes derives them, written out here independently of y26's.
std::vector<std::uint8_t> sampled_to_original(const std::vector<std::uint8_t>& in, int ih, int iw, int oh, int ow) {
  const double gain = std::min(static_cast<double>(ih) / oh, static_cast<double>(iw) / ow);
  const int nh = std::max(static_cast<int>(std::nearbyint(oh * gain)), 1), nw = std::max(static_cast<int>(std::nearbyint(ow * gain)), 1);
  const float gy = static_cast<float>(static_cast<double>(nh) / oh), gx = static_cast<float>(static_cast<double>(nw) / ow);
  const float py = static_cast<float>(std::nearbyint((ih - nh) / 2.0 - 0.1)), px = static_cast<float>(std::nearbyint((iw - nw) / 2.0 - 0.1));
  std::vector<std::uint8_t> out(static_cast<size_t>(oh) * ow);
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      const int sy = static_cast<int>(std::floor((static_cast<float>(y) + 0.5f) * gy + py));
      const int sx = static_cast<int>(std::floor((static_cast<float>(x) + 0.5f) * gx + px));
      out[static_cast<size_t>(y) * ow + x] = in[static_cast<size_t>(sy) * iw + sx];
    }
  return out;
}

double iou(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  REQUIRE(a.size() == b.size());
  std::int64_t inter = 0, uni = 0;
  for (size_t i = 0; i < a.size(); ++i) inter += a[i] & b[i], uni += a[i] | b[i];
  return uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

// The reference detection of d: same class, the nearest box (scores may tie: any order among them).
const json& nearest(const Detection& d, const json& want, float& dist) {
  const json* best = nullptr;
  dist = INFINITY;
  for (const auto& wd : want) {
    const auto b = wd["box"].get<std::vector<float>>();
    const float e = std::max({std::abs(d.x1 - b[0]), std::abs(d.y1 - b[1]), std::abs(d.x2 - b[2]), std::abs(d.y2 - b[3])});
    if (wd["cls"].get<int>() == d.cls && e < dist) dist = e, best = &wd;
  }
  REQUIRE(best != nullptr);
  return *best;
}

// Every run of one scene: detect() (default masks mapped to the image, and retina masks), and
// detect_letterboxed() on the input yolo predict saw (default masks in its own frame).
void check_scene(const char* scene) {
  const json all = json::parse(test::read_file(test::fixture(std::string(kModel) + ".detections.json")));
  const Image image = load_image(test::fixture(scene));
  for (const char* run : {"end2end", "nms", "end2end_retina", "nms_retina", "end2end letterboxed", "nms letterboxed"}) {
    const std::string name = run;
    const bool letterboxed = name.find(" letterboxed") != std::string::npos;
    const json& r = all[scene][name.substr(0, name.find(' '))];
    INFO(scene << ", " << run);
    Options o = test::predict_run_options(r);
    o.retina_masks = r["args"]["retina_masks"].get<bool>();
    Engine e = Engine::load(test::fixture(std::string(kModel) + ".pt"), o);
    const int fh = r["mask_shape"][0].get<int>(), fw = r["mask_shape"][1].get<int>();  // Ultralytics' mask frame
    std::vector<Detection> got;
    if (letterboxed) {  // the rect letterbox yolo predict made: its frame is the input's
      const auto lb = runtime::letterbox_params(image.width, image.height, 640, 640, true, 32);
      REQUIRE((lb.out_h() == fh && lb.out_w() == fw));
      got = e.detect_letterboxed({Image{fw, fh, runtime::letterbox_u8(image, lb)}})[0];
    } else {
      got = e.detect(image);
    }
    const auto& want = r["detections"];
    REQUIRE(got.size() == want.size());
    REQUIRE(got.size() >= 10);
    double worst_iou = 1;
    float worst_box = 0;
    for (const Detection& d : got) {
      Detection mapped = d;  // letterboxed: unclipped, in input pixels, as yolo predict's before scale_boxes
      if (letterboxed) {
        float b[4] = {d.x1, d.y1, d.x2, d.y2};
        runtime::scale_box_to_original(b, fh, fw, image.height, image.width);
        mapped.x1 = b[0], mapped.y1 = b[1], mapped.x2 = b[2], mapped.y2 = b[3];
      }
      float dist = 0;
      const json& w = nearest(mapped, want, dist);
      CHECK(std::abs(d.score - w["score"].get<float>()) <= 1e-4f);
      const auto ref = from_runs(w["mask_runs"], fh, fw);
      if (letterboxed) {
        worst_iou = std::min(worst_iou, iou(frame_of(d.mask, fh, fw), ref));
      } else if (o.retina_masks) {
        REQUIRE((fh == image.height && fw == image.width));
        worst_iou = std::min(worst_iou, iou(frame_of(d.mask, fh, fw), ref));
      } else {
        worst_iou = std::min(worst_iou, iou(frame_of(d.mask, image.height, image.width),
                                            sampled_to_original(ref, fh, fw, image.height, image.width)));
      }
      worst_box = std::max(worst_box, dist);
      CHECK(d.mask.area() > 0);
    }
    INFO("worst box " << worst_box << " px, worst mask IoU " << worst_iou);
    CHECK(worst_box <= 0.05f);
    CHECK(worst_iou >= 0.99);
  }
}

}  // namespace

TEST_CASE("the segmentation fixture is a Segment26 model; its graph ends in 32 prototypes at a quarter of the input", "[segment]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  const graph::HeadKind k = graph::head_kind(w);
  CHECK(k.task == graph::Task::Segment);
  CHECK(k.module == "Segment26");
  for (const bool e2e : {true, false}) {
    INFO((e2e ? "one-to-one" : "one-to-many"));
    const graph::Graph g = graph::build_yolo26(w, {256, 320, e2e});
    CHECK(g.head.task == graph::Task::Segment);
    CHECK((g.head.nc == 3 && g.head.extra == kNm && g.head.row() == 4 + 3 + kNm));
    REQUIRE(g.head.protos >= 0);
    const graph::Buffer& pb = g.buffers[static_cast<size_t>(g.head.protos)];
    CHECK((pb.h == 64 && pb.w == 80 && pb.c == kNm));
    int coefficient_writers = 0, depth_to_space = 0, upsample_adds = 0;
    for (const auto& n : g.nodes) {
      if (n.output.buffer == g.head.output && n.output.c0 == 7) {
        CHECK(n.output.c == kNm);
        CHECK(n.name.find(e2e ? "one2one_cv4." : ".cv4.") != std::string::npos);
        ++coefficient_writers;
      }
      if (n.kind == graph::OpKind::DepthToSpace) {
        CHECK(n.name == "model.23.proto.upsample.subpixels");
        CHECK((n.inputs[0].c == 4 * 64 && n.output.h == 64 && n.output.w == 80));  // ConvTranspose2d's 64 channels
        ++depth_to_space;
      }
      if (n.kind == graph::OpKind::Upsample && n.residual) ++upsample_adds;
    }
    CHECK(coefficient_writers == 3);
    CHECK(depth_to_space == 1);
    CHECK(upsample_adds == 1);  // P3 + up(refine.0(P4) + up(refine.1(P5))): the inner add is refine.0's residual
    // the prototypes are read after the last op, as the head is: live to the end of the plan
    const memory::Plan plan = memory::plan_memory(g, 2);
    CHECK(plan.buffers[static_cast<size_t>(g.head.protos)].last == static_cast<int>(g.nodes.size()));
    CHECK(plan.buffers[static_cast<size_t>(g.head.protos)].last == plan.buffers[static_cast<size_t>(g.head.output)].last);
  }
  Options o;
  o.device = "cpu";
  Engine e = Engine::load(test::fixture(std::string(kModel) + ".pt"), o);
  CHECK(e.task() == "segment");
  CHECK(inspect_model(test::fixture(std::string(kModel) + ".pt")).task == "segment");
  CHECK(e.summary(256, 256).layers.back().type == "Segment");
}

TEST_CASE("a Segment26 head with a missing or mismatched prototype tensor is refused by name", "[segment][bad]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  WeightMap missing = w;
  missing.tensors.erase("model.23.proto.feat_fuse.conv.weight");
  CHECK_THROWS_WITH(graph::build_yolo26(missing, {256, 256, true}), Catch::Contains("'model.23.proto.feat_fuse.conv.weight'"));
  WeightMap no_refine = w;  // Proto26 without its feature refinement: not what y26 builds
  no_refine.tensors.erase("model.23.proto.feat_refine.1.conv.weight");
  CHECK_THROWS_WITH(graph::build_yolo26(no_refine, {256, 256, true}), Catch::Contains("is not Proto26"));
  WeightMap fewer = w;  // 31 prototypes for 32 coefficients
  Tensor& cv3 = fewer.tensors.at("model.23.proto.cv3.conv.weight");
  cv3.shape[0] = 31;
  cv3.bytes.resize(static_cast<size_t>(cv3.numel()) * dtype_size(cv3.dtype));
  for (const char* bn : {"weight", "bias", "running_mean", "running_var"}) {
    Tensor& t = fewer.tensors.at(std::string("model.23.proto.cv3.bn.") + bn);
    t.shape[0] = 31;
    t.bytes.resize(static_cast<size_t>(t.numel()) * dtype_size(t.dtype));
  }
  CHECK_THROWS_WITH(graph::build_yolo26(fewer, {256, 256, true}), Catch::Contains("makes 31 prototypes, but the head predicts 32"));
  WeightMap bad_up = w;  // the transposed convolution's kernel is not 2 x 2
  bad_up.tensors.at("model.23.proto.upsample.weight").shape[3] = 1;
  CHECK_THROWS_WITH(graph::build_yolo26(bad_up, {256, 256, true}), Catch::Contains("a ConvTranspose2d 2x2/2"));
}

TEST_CASE("CPU FP32 raw segmentation heads and prototypes match the Ultralytics goldens", "[segment][parity]") {
  const WeightMap w = load_weights(test::fixture(std::string(kModel) + ".pt"));
  const WeightMap goldens = load_weights(test::fixture(std::string(kModel) + ".goldens.safetensors"));
  test::check_raw_heads(w, goldens, "mask_coefficient");
  const Tensor& ref_t = goldens.at("head.protos");  // (1, nm, H / 4, W / 4)
  const auto ref = ref_t.to_float();
  kernels::cpu::ThreadPool pool;
  for (const auto kernels : {runtime::CpuKernels::Reference, runtime::CpuKernels::Fast}) {
    INFO(runtime::cpu_kernels_name(kernels) << " kernels");
    const graph::Graph g = test::golden_graph(w, goldens, true);
    runtime::CpuExecutor exec(g, memory::plan_memory(g, 1), pool, false, kernels);
    test::run_on_golden_input(exec, g, goldens);
    const auto protos = exec.view(g.whole(g.head.protos));
    REQUIRE(ref_t.shape == std::vector<std::int64_t>{1, kNm, protos.h, protos.w});
    std::vector<float> got, want;
    for (int k = 0; k < kNm; ++k)
      for (int y = 0; y < protos.h; ++y)
        for (int x = 0; x < protos.w; ++x) {
          got.push_back(protos.pixel(0, y, x)[k]);
          want.push_back(ref[(static_cast<size_t>(k) * protos.h + y) * protos.w + x]);
        }
    CHECK(test::relative_error(got, want) <= 1e-4);
  }
}

TEST_CASE("segmentation masks match yolo predict at 640 on the wide scene: default, retina and letterboxed, both heads",
          "[segment][parity]") {
  check_scene("scene-640x456.png");
}

// [heavy]: left to the main build's ctest by the sanitizers; the code it runs is the case's above
TEST_CASE("segmentation masks match yolo predict at 640 on the 500x375 scene: default, retina and letterboxed, both heads",
          "[segment][parity][heavy]") {
  check_scene("scene-500x375.png");
}

TEST_CASE("mask assembly keeps what Ultralytics keeps: empty masks drop their detection, boxes crop", "[segment]") {
  // 4 x 5 logits for an 16 x 20 input holding a 16 x 10 image (letterboxed: 5 px of padding each side)
  const runtime::MaskFrame f{4, 5, 16, 20, 16, 10};
  std::vector<float> logits(20, -1.0f);
  const float input_box[4] = {0, 0, 20, 16}, image_box[4] = {0, 0, 10, 16};
  CHECK_FALSE(runtime::assemble_mask(logits.data(), f, input_box, image_box, false).has_value());  // all negative
  CHECK_FALSE(runtime::assemble_mask(logits.data(), f, input_box, image_box, true).has_value());
  logits[2 * 5 + 2] = 3.0f;  // one positive logit, at the centre
  const auto m = runtime::assemble_mask(logits.data(), f, input_box, image_box, false);
  REQUIRE(m.has_value());
  CHECK(m->area() > 0);
  CHECK(m->pixels.size() == static_cast<size_t>(m->width) * m->height);
  // positive where the bilinear blend of 3 and -1 is: within 3 input px of the logit's centre (9.5, 9.5)
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 10; ++x)
      if (m->contains(x, y)) CHECK((x >= 2 && x < 8 && y >= 7 && y < 13));  // input (7..12, 7..12) less 5 px of padding
  // a box away from the positive logits: cropped to nothing, dropped
  const float corner_input[4] = {5, 0, 7, 2}, corner_image[4] = {0, 0, 2, 2};
  CHECK_FALSE(runtime::assemble_mask(logits.data(), f, corner_input, corner_image, false).has_value());
  CHECK_FALSE(runtime::assemble_mask(logits.data(), f, corner_input, corner_image, true).has_value());
  // crop_mask's bounds: columns x1 <= x < x2 of the box, fractional edges included from their ceiling
  std::vector<float> positive(20, 1.0f);
  const float frac[4] = {7.5f, 2.0f, 9.0f, 5.0f};
  const auto frame = runtime::mask_in_frame(positive.data(), f, frac, false);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 20; ++x) CHECK(frame[static_cast<size_t>(y) * 20 + x] == ((x == 8 && y >= 2 && y < 5) ? 1 : 0));
}

TEST_CASE("COCO RLE of masks is pycocotools' mask.encode", "[segment]") {
  // expected strings from pycocotools 2.0.8's mask.encode on the same masks
  auto mask = [](int w, int h, auto on) {
    Mask m{0, 0, w, h, std::vector<std::uint8_t>(static_cast<size_t>(w) * h)};
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) m.pixels[static_cast<size_t>(y) * w + x] = on(x, y) ? 1 : 0;
    return m;
  };
  CHECK(coco_rle(Mask{}, 4, 3) == "<");
  CHECK(coco_rle(mask(4, 3, [](int, int) { return true; }), 4, 3) == "0<");
  CHECK(coco_rle(mask(7, 5, [](int x, int y) { return y >= 1 && y < 4 && x >= 2 && x < 6; }), 7, 5) == ";32000004");
  // the same block as a cropped Mask (its bounds only) in the 7 x 5 image
  CHECK(coco_rle(Mask{2, 1, 4, 3, std::vector<std::uint8_t>(12, 1)}, 7, 5) == ";32000004");
  CHECK(coco_rle(mask(50, 40, [](int x, int y) { return (y >= 3 && y < 37 && x >= 10 && x < 45) || y == 20 || y == 21; }), 50, 40) ==
        "d02V100000000000000000_OP1A0000000000000000000000000000000000000000000000000000000000000000000a0PO?0000000\\O");
  CHECK(coco_rle(mask(17, 23, [](int x, int y) { return (x * 7 + y * 13 + x * y) % 5 < 2; }), 17, 23) ==
        "011010O010O010O010O00120000000d0O\\O10000000OO0O010O010O010O0000010O010O010O010O00120000000d0O\\O10000000OO0O010"
        "O010O010O0000010O010O010O010O00120000000d0O\\O10000000OO0O010O010O010O0000010O010O010O010O00120000000");
  // runs longer than 5 bits and negative deltas: several characters a count
  const std::string large = coco_rle(mask(640, 480, [](int x, int y) {
    return y >= 100 && y < 400 && x >= 50 && x < 600 && !(y >= 200 && y < 210 && x >= 300 && x < 320);
  }), 640, 480);
  CHECK(large ==
"Tag0\\9d5000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000hIfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj"
      "2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5VMfJj2Z5^3000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000ldb0");
}

TEST_CASE("FP16 storage (the CUDA backend's numerics, on the CPU): masks within the bounds measured against yolo predict",
          "[segment][parity]") {
  const json all = json::parse(test::read_file(test::fixture(std::string(kModel) + ".detections.json")));
  const Image image = load_image(test::fixture("scene-640x456.png"));
  for (const char* run : {"end2end", "end2end_retina"}) {
    INFO(run);
    const json& r = all["scene-640x456.png"][run];
    Options o = test::predict_run_options(r);
    o.retina_masks = r["args"]["retina_masks"].get<bool>();
    o.precision = Precision::FP16;
    const auto got = Engine::load(test::fixture(std::string(kModel) + ".pt"), o).detect(image);
    const auto& want = r["detections"];
    const int fh = r["mask_shape"][0].get<int>(), fw = r["mask_shape"][1].get<int>();
    size_t matched = 0;
    double worst_iou = 1;  // of masks of 200+ pixels
    std::int64_t differ = 0, covered = 0;
    for (const Detection& d : got) {
      float dist = 0;
      const json& w = nearest(d, want, dist);
      if (dist > 2.0f) continue;
      ++matched;
      auto ref = from_runs(w["mask_runs"], fh, fw);
      if (!o.retina_masks) ref = sampled_to_original(ref, fh, fw, image.height, image.width);
      const auto mine = frame_of(d.mask, image.height, image.width);
      std::int64_t inter = 0, uni = 0;
      for (size_t i = 0; i < ref.size(); ++i) inter += ref[i] & mine[i], uni += ref[i] | mine[i];
      if (w["mask_pixels"].get<int>() >= 200) worst_iou = std::min(worst_iou, static_cast<double>(inter) / static_cast<double>(uni));
      differ += uni - inter, covered += uni;
    }
    const double flipped = static_cast<double>(differ) / static_cast<double>(covered);
    INFO(got.size() << " detections, yolo predict " << want.size() << "; matched " << matched << ", worst IoU of a mask of 200+ pixels "
                    << worst_iou << ", pixels in one mask only " << flipped << " of those in either");
    // measured 2026-12-04: all 30 matched, both frames; worst IoU 0.984, 0.17% of the pixels in one mask only.
    // Bounds twice the deviations. (The NMS head at FP16 keeps 26 of yolo predict's 29: the random network's
    // scores crowd conf 0.25, and FP16 moves three below it; the count is the detection tests' business.)
    CHECK(matched + 1 >= want.size());
    CHECK(worst_iou >= 0.96);
    CHECK(flipped <= 0.0035);
  }
}
