// Host API of the CUDA FP16 kernels. Plain C++ (no CUDA headers), so the
// runtime and the tests include it from g++ translation units. Activations are
// FP16 bit patterns (std::uint16_t) in NHWC views; accumulation is FP32.
// Every launcher takes a cudaStream_t (as void*) and reports failures as y26::Error.
#pragma once

#include <cstdint>

#include "kernels/cuda/variant.h"
#include "kernels/ops.h"

namespace y26::kernels::cuda {

using half_bits = std::uint16_t;

// Convolution weights on the device, FP16, BatchNorm folded:
//   dense (groups == 1): w[co * k_padded + k], k = (ky * kw + kx) * cin + ci, zero for k >= kh*kw*cin
//   depthwise:           w[(ky * kw + kx) * c + ch]
// bias: FP32, cout values.
struct DeviceConvWeights {
  const half_bits* w = nullptr;
  const float* bias = nullptr;
  int cin = 0, cout = 0, kh = 1, kw = 1, groups = 1;
  int k_padded = 0;  // dense only: row length of w, a multiple of kConvK
};

inline constexpr int kConvK = 32;  // the implicit GEMM's K step: dense weight rows are padded to it
inline int conv_k_padded(int kh, int kw, int cin) { return (kh * kw * cin + kConvK - 1) / kConvK * kConvK; }

// Device bytes one convolution's weights occupy as the CUDA backend stores them (FP16 weights and
// FP32 bias, each 256-byte aligned): the planner reports exactly what the engine will allocate.
inline std::int64_t align_device(std::int64_t v) { return (v + 255) / 256 * 256; }
inline std::int64_t device_weight_bytes(int kh, int kw, int cin, int cout, int groups) {
  const std::int64_t w = groups > 1 ? static_cast<std::int64_t>(kh) * kw * cout * 2
                                    : static_cast<std::int64_t>(cout) * conv_k_padded(kh, kw, cin) * 2;
  return align_device(w) + align_device(static_cast<std::int64_t>(cout) * 4);
}

// The implicit GEMM's block tile (pixels x output channels); Auto picks per layer shape with
// choose_conv_tile (the largest tile that still gives every SM two blocks).
enum class ConvTile { Auto, Tile128x64, Tile64x64, Tile64x32, Tile32x32 };
inline constexpr ConvTile kConvTiles[] = {ConvTile::Tile128x64, ConvTile::Tile64x64, ConvTile::Tile64x32, ConvTile::Tile32x32};
inline const char* conv_tile_name(ConvTile t) {
  switch (t) {
    case ConvTile::Tile128x64: return "128x64";
    case ConvTile::Tile64x64: return "64x64";
    case ConvTile::Tile64x32: return "64x32";
    case ConvTile::Tile32x32: return "32x32";
    default: return "auto";
  }
}
Y26_CUDA_VARIANT_BEGIN
ConvTile choose_conv_tile(long long pixels, int cout, int sms);
Y26_CUDA_VARIANT_END

// Split-K for dense convolutions too small to fill the GPU (at batch 1 the 20x20 layers give 104
// tiles of 32x32 but K up to 2304; split when at most 128 tiles): `splits` blocks share each 32x32 output tile, each takes
// a contiguous run of k-blocks and writes FP32 partials; the last to arrive (a counter per tile) adds
// them in split order - deterministic - and runs the epilogue. Decided from the layer's shape alone
// (not the GPU's SM count) so that `y26 plan` sizes the scratch the executor allocates, exactly.
inline constexpr int kSplitTargetBlocks = 256, kMaxSplits = 8, kMinKBlocksPerSplit = 4;
struct ConvSplit {
  int splits = 1;
  std::int64_t tiles = 0;  // 32x32 output tiles
  std::int64_t partial_bytes() const { return splits > 1 ? splits * tiles * 32 * 32 * 4 : 0; }
  std::int64_t counter_bytes() const { return splits > 1 ? tiles * 4 : 0; }
};
inline ConvSplit conv_split(std::int64_t pixels, int cout, int k_padded) {
  ConvSplit s;
  s.tiles = (pixels + 31) / 32 * ((cout + 31) / 32);
  const std::int64_t num_k = k_padded / kConvK;
  if (2 * s.tiles > kSplitTargetBlocks) return s;  // over half a target: little to gain for the partials' memory
  std::int64_t want = (kSplitTargetBlocks + s.tiles - 1) / s.tiles;
  want = want < kMaxSplits ? want : kMaxSplits;
  want = want < num_k / kMinKBlocksPerSplit ? want : num_k / kMinKBlocksPerSplit;
  if (want < 2) return s;
  const std::int64_t per = (num_k + want - 1) / want;  // k-blocks per split; every split gets some
  s.splits = static_cast<int>((num_k + per - 1) / per);
  return s;
}
// Device scratch for split-K: FP32 partials and per-tile counters (zero between convolutions).
struct ConvScratch {
  float* partial = nullptr;
  unsigned* counters = nullptr;
  std::int64_t partial_bytes = 0, counter_bytes = 0;
};

// What conv2d runs for a dense convolution with ConvTile::Auto: split-K (32x32 tiles) when conv_split
// says so and `scratch` is large enough, else choose_conv_tile's tile for this GPU.
struct ConvLaunch {
  ConvTile tile = ConvTile::Tile32x32;
  int splits = 1;
};
Y26_CUDA_VARIANT_BEGIN
ConvLaunch choose_conv_launch(long long pixels, int cout, int k_padded, const ConvScratch* scratch);
Y26_CUDA_VARIANT_END

Y26_CUDA_VARIANT_BEGIN
// out = act(conv(in) + bias) [+ residual], dense on tensor cores (implicit GEMM) or depthwise.
// With Auto tiles and a scratch large enough, small layers split K (conv_split).
void conv2d(const View<const half_bits>& in, const View<half_bits>& out, const DeviceConvWeights& w,
            const ConvParams& p, const View<const half_bits>* residual, void* stream, ConvTile tile = ConvTile::Auto,
            const ConvScratch* scratch = nullptr);

void max_pool2d(const View<const half_bits>& in, const View<half_bits>& out, const PoolParams& p, void* stream);
// out = nearest 2x of in [+ residual, added in FP32 and rounded once] (Proto26's feature sum).
void upsample_nearest2x(const View<const half_bits>& in, const View<half_bits>& out, void* stream,
                        const View<const half_bits>* residual = nullptr);
// out (h, w, c) from in (h / 2, w / 2, 4c), sub-pixel (dy, dx) from channel group dy * 2 + dx (kernels/cpu/cpu_ops.h).
void depth_to_space2x(const View<const half_bits>& in, const View<half_bits>& out, void* stream);
// Classify's AdaptiveAvgPool2d(1): out (1 x 1 x c per image) = the FP32 mean over in's pixels, rounded to FP16.
void global_avg_pool(const View<const half_bits>& in, const View<half_bits>& out, void* stream);
Y26_CUDA_VARIANT_END

// PSA attention, fused: scores never leave registers (online softmax in FP32). Auto takes the tile
// kernel when the head sizes and views allow it (YOLO26's 32/64 heads do), else the warp kernel.
enum class AttentionKernel { Auto, Tile, Warp };
Y26_CUDA_VARIANT_BEGIN
void attention(const View<const half_bits>& q, const View<const half_bits>& k, const View<const half_bits>& v,
               const View<half_bits>& out, const AttentionParams& p, void* stream,
               AttentionKernel kernel = AttentionKernel::Auto);
Y26_CUDA_VARIANT_END

}  // namespace y26::kernels::cuda

namespace y26::kernels::cuda {

// Ultralytics' letterbox for one image on the GPU: the source (8-bit RGB, device memory) is resized to
// unpad_w x unpad_h with OpenCV's 8-bit INTER_LINEAR arithmetic (bit-exact with runtime/letterbox.cpp),
// placed at (left, top), padded with 114, divided by 255 and stored as FP16 into `out` (h x w x 3).
struct LetterboxGeometry {
  int src_w = 0, src_h = 0;
  int unpad_w = 0, unpad_h = 0;
  int top = 0, left = 0;
};
Y26_CUDA_VARIANT_BEGIN
void letterbox_to_input(const std::uint8_t* src, const LetterboxGeometry& g, const View<half_bits>& out, int image,
                        void* stream);
Y26_CUDA_VARIANT_END

// From letterboxed input pixels back to the original image's (Ultralytics' ops.scale_boxes): x' =
// clamp((x - pad_x) / gain_x, 0, max_x), y likewise. runtime::box_mapping computes the values; the CPU
// (runtime::scale_box_to_original) and the GPU apply them with the same two IEEE operations.
struct BoxMapping {
  float pad_x = 0, pad_y = 0, gain_x = 1, gain_y = 1, max_x = 0, max_y = 0;
};
// rows: batch x rows_per_image rows of [x1, y1, x2, y2, ...] (row_floats floats each), image i mapped
// with maps[i] (device memory), in place. `rotated`: rows of [cx, cy, w, h, ...] mapped as
// runtime::scale_rotated_to_original maps them: cx' = (cx - pad_x) / gain_x, w' = w / gain_x, y likewise,
// unclipped (Ultralytics' scale_boxes(xywh=True)). kpt_n > 0: a pose head's rows, kpt_n keypoints of
// kpt_dim floats from float 6, each x and y mapped and clipped as the box (runtime::scale_keypoints_to_original).
Y26_CUDA_VARIANT_BEGIN
void map_boxes(float* rows, int batch, int rows_per_image, int row_floats, const BoxMapping* maps, void* stream,
               bool rotated = false, int kpt_n = 0, int kpt_dim = 0);
Y26_CUDA_VARIANT_END

}  // namespace y26::kernels::cuda

namespace y26::kernels::cuda {

// Per image: the k largest of n float keys, descending, equal keys in ascending index order
// (what runtime/postprocess.cpp's top_k does). One block per image: a radix select of
// the k-th key in four 8-bit passes, an order-preserving compaction, then a bitonic sort of the k survivors.
inline constexpr int kTopKMax = 2048;
Y26_CUDA_VARIANT_BEGIN
void top_k(const float* keys, std::int64_t n, int k, int batch, int* out_index, float* out_value, void* stream);
Y26_CUDA_VARIANT_END

// The end-to-end head's selection on the device (Ultralytics Detect.postprocess): per image, top k
// anchors by best class score, top k of their (anchor, class) pairs, decoded boxes. `head` is the
// FP16 head buffer (batch x anchors x `row`: 4 + nc + the task's extra channels); `out` receives batch x k
// rows of [x1, y1, x2, y2, score, class] in input pixels, best first, and what `extras` adds (HeadExtras).
// Scratch: end2end_workspace_bytes().
struct HeadLevels {
  int count = 0;
  int w[4] = {}, anchor_offset[4] = {};
  float stride[4] = {};
};
// The task's channels a selection carries into its result rows. An OBB head (angle >= 0, the angle's
// channel in a head row): rows of [cx, cy, w, h, score, class, angle], the box decoded as dist2rbox
// (runtime::decode_rotated). A pose head (kpt_channel >= 0, its first keypoint channel): rows of [x1, y1,
// x2, y2, score, class] then kpt_n keypoints of kpt_dim floats, x and y in input pixels and the visibility's
// sigmoid (runtime::decode_keypoints).
#if defined(__CUDACC__)
#define Y26_HOST_DEVICE __host__ __device__  // the kernels read it too (this header is plain C++ elsewhere)
#else
#define Y26_HOST_DEVICE
#endif
struct HeadExtras {
  int angle = -1;
  int kpt_channel = -1, kpt_n = 0, kpt_dim = 0;
  Y26_HOST_DEVICE int row_floats() const { return angle >= 0 ? 7 : 6 + (kpt_channel >= 0 ? kpt_n * kpt_dim : 0); }
};
// Plain arithmetic, here so that plans (and CPU-only builds) can report it.
inline std::int64_t end2end_workspace_bytes(int batch, int anchors, int nc, int k) {
  const std::int64_t b = batch;
  return align_device(b * anchors * 4) + align_device(b * k * 4) + align_device(b * k * nc * 4) + align_device(b * k * 4) +
         align_device(b * k * 4);
}
Y26_CUDA_VARIANT_BEGIN
void select_end2end(const half_bits* head, int batch, int anchors, int nc, int row, const HeadExtras& extras, int k,
                    const HeadLevels& levels, void* workspace, float* out, void* stream);
Y26_CUDA_VARIANT_END

}  // namespace y26::kernels::cuda

namespace y26::kernels::cuda {

// The one-to-many head's selection on the device (Ultralytics non_max_suppression): per image, the
// best class per anchor, score > conf, the top kNmsCandidates by score, class-aware greedy NMS with
// Ultralytics' class offset (boxes + class x 7680) on a bitmask of IoU > iou, at most max_det kept.
// `out`: batch x max_det rows of [x1, y1, x2, y2, score, class], best first; `count`: batch ints, or -1
// for an image whose result could differ from Ultralytics' (which considers 30000 candidates): more than
// kNmsCandidates boxes passed conf and the candidates ran out before max_det boxes were kept. The engine
// then runs that image's NMS on the host.
inline constexpr int kNmsCandidates = 2048;
// `rotated`: an OBB head (select_nms with an angle): boxes of 5 floats.
inline std::int64_t nms_workspace_bytes(int batch, int anchors, bool rotated = false) {
  const std::int64_t b = batch, k = kNmsCandidates < anchors ? kNmsCandidates : anchors;
  return align_device(b * anchors * 4) + align_device(b * k * 4) * 3 + align_device(b * k * (rotated ? 5 : 4) * 4) +
         align_device(b * k * ((k + 63) / 64) * 8);
}
// `row` and `extras` as select_end2end's: with an angle (an OBB head), rows of [cx, cy, w, h, score, class,
// angle], suppressed with the probabilistic IoU by Ultralytics' fast NMS (runtime::fast_nms_rotated); a pose
// head's boxes are suppressed as a detection head's and its kept rows carry their keypoints.
Y26_CUDA_VARIANT_BEGIN
void select_nms(const half_bits* head, int batch, int anchors, int nc, int row, const HeadExtras& extras, const HeadLevels& levels,
                float conf, float iou, int max_det, void* workspace, float* out, int* count, void* stream);
Y26_CUDA_VARIANT_END

}  // namespace y26::kernels::cuda

namespace y26::kernels::cuda {

// Segment26's masks: a detection's mask logits at the prototypes' resolution (a quarter of the input) are
// its anchor's nm mask coefficients (the head row's extra channels) weighing the nm prototypes, per
// prototype pixel: logit = sum_k coef[k] * proto[k] in FP32, fmaf in k order from 0, as the CPU twin
// runtime::mask_logits computes it (bit-exact). Requests are taken kMaskChunk at a time: the workspace
// holds that many requests and their logits (runtime/device_selection.h).
struct MaskRequest {
  int image = 0, anchor = 0;
};
inline constexpr int kMaskChunk = 64;
inline constexpr int kMaxMasks = 256;  // prototypes a model may have (Ultralytics' default: 32)
// head: the head buffer's whole view (a row per anchor, as pixels); protos: the prototypes' buffer;
// requests (device): n <= kMaskChunk of them; out (device): n x protos.h * protos.w floats, request after request.
Y26_CUDA_VARIANT_BEGIN
void mask_logits(const View<const half_bits>& head, int coef_channel, const View<const half_bits>& protos,
                 const MaskRequest* requests, int n, float* out, void* stream);
Y26_CUDA_VARIANT_END

}  // namespace y26::kernels::cuda
