// Class-aware NMS on the device, the classic head's post-processing. Arithmetic
// uses explicit _rn intrinsics so that nothing is contracted into an FMA and every
// box and IoU rounds exactly as the CPU twin (runtime/postprocess.cpp select_nms).
// An OBB head's (rotated): boxes cx cy w h angle, the probabilistic IoU, and Ultralytics'
// fast NMS (TorchNMS.fast_nms): a box is dropped when any higher-scoring candidate, kept or
// not, overlaps it, so the scan ORs the row of every candidate it passes. A pose head's boxes are
// suppressed as a detection head's, and the scan decodes each kept box's keypoints.
#include "kernels/cuda/head.cuh"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

constexpr float kMaxWh = 7680.0f;  // Ultralytics' per-class coordinate offset

struct Candidates {
  float* score;  // batch x anchors: sigmoid(best logit) if > conf, else -1
  int* order;    // batch x k: candidates by score (top_k)
  float* top;    // batch x k: their scores, best first (-1: below conf)
  float* boxes;  // batch x k x 4: xyxy in input pixels (without the class offset); rotated x 5: cx cy w h angle
  int* cls;      // batch x k (shares the order buffer's size)
  unsigned long long* mask;  // batch x k x words: bit j of row i: IoU(i, j) > iou
};

__global__ void nms_scores_kernel(const unsigned short* head, int batch, int anchors, int nc, int row, float conf,
                                  float* score) {
  pdl_prologue();
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(batch) * anchors) return;
  const float s = best_class_score(head + i * row, nc);
  score[i] = s > conf ? s : -1.0f;
}

// Decodes each ordered candidate: best class (first maximum, as the CPU's max_element) and the
// xywh -> xyxy box of Ultralytics' classic path (rotated: dist2rbox, xywh and the angle).
__global__ void nms_decode_kernel(const unsigned short* head, int batch, int anchors, int nc, int row, int angle, int k,
                                  HeadLevels lv, const int* order, float* boxes, int* cls) {
  pdl_prologue();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= batch * k) return;
  const int b = i / k, a = order[i];
  const auto [ax, ay, s] = anchor_point(lv, a);
  const unsigned short* r = head + (static_cast<long long>(b) * anchors + a) * row;
  int best = 0;
  float bv = load_half(r + 4);
  for (int c = 1; c < nc; ++c) {
    const float v = load_half(r + 4 + c);
    if (v > bv) bv = v, best = c;
  }
  cls[i] = best;
  if (angle >= 0) {
    const RotatedBoxD rb = decode_rotated_row(r, angle, ax, ay, s);
    float* o = boxes + static_cast<long long>(i) * 5;
    o[0] = rb.cx, o[1] = rb.cy, o[2] = rb.w, o[3] = rb.h, o[4] = rb.angle;
    return;
  }
  const float x1 = __fsub_rn(ax, load_half(r + 0)), y1 = __fsub_rn(ay, load_half(r + 1));
  const float x2 = __fadd_rn(ax, load_half(r + 2)), y2 = __fadd_rn(ay, load_half(r + 3));
  const float cx = __fmul_rn(__fdiv_rn(__fadd_rn(x1, x2), 2.0f), s), cy = __fmul_rn(__fdiv_rn(__fadd_rn(y1, y2), 2.0f), s);
  const float w = __fmul_rn(__fsub_rn(x2, x1), s), h = __fmul_rn(__fsub_rn(y2, y1), s);
  float* o = boxes + static_cast<long long>(i) * 4;
  o[0] = __fsub_rn(cx, __fdiv_rn(w, 2.0f));
  o[1] = __fsub_rn(cy, __fdiv_rn(h, 2.0f));
  o[2] = __fadd_rn(cx, __fdiv_rn(w, 2.0f));
  o[3] = __fadd_rn(cy, __fdiv_rn(h, 2.0f));
}

// A candidate offset by its class (Ultralytics' class-aware NMS): an xyxy box's four coordinates, a
// rotated box's centre only (x[:, :2] + c).
template <bool kRotated>
__device__ __forceinline__ void offset_box(const float* b, int cls, float* o) {
  const float off = __fmul_rn(static_cast<float>(cls), kMaxWh);
  if constexpr (kRotated) {
    o[0] = __fadd_rn(b[0], off), o[1] = __fadd_rn(b[1], off), o[2] = b[2], o[3] = b[3], o[4] = b[4];
  } else {
    for (int c = 0; c < 4; ++c) o[c] = __fadd_rn(b[c], off);
  }
}

// Block (column block, row block, image): thread t compares row box i = row block * 64 + t with the
// 64 boxes of the column block, writing one 64-bit word of row i: bit t when box j = j0 + t > i
// overlaps it by more than iou (IoU of xyxy boxes; kRotated: probiou of cx cy w h angle boxes).
template <bool kRotated>
__global__ void __launch_bounds__(64) nms_mask_kernel(int k, float iou, const float* boxes, const int* cls,
                                                      unsigned long long* mask) {
  pdl_prologue();
  constexpr int kFloats = kRotated ? 5 : 4;
  const int words = (k + 63) / 64;
  const int tx = static_cast<int>(threadIdx.x);
  const int b = blockIdx.z, i = blockIdx.y * 64 + tx, j0 = blockIdx.x * 64;
  __shared__ float cols[64][kFloats];
  if (j0 + tx < k)
    offset_box<kRotated>(boxes + (static_cast<long long>(b) * k + j0 + tx) * kFloats, cls[b * k + j0 + tx], cols[tx]);
  __syncthreads();
  if (i >= k) return;
  float bi[kFloats];
  offset_box<kRotated>(boxes + (static_cast<long long>(b) * k + i) * kFloats, cls[b * k + i], bi);
  const float area_i = kRotated ? 0.0f : __fmul_rn(__fsub_rn(bi[2], bi[0]), __fsub_rn(bi[3], bi[1]));
  unsigned long long bits = 0;
  for (int t = 0; t < 64 && j0 + t < k; ++t) {
    const int j = j0 + t;
    if (j <= i) continue;
    const float* bj = cols[t];
    float overlap;
    if constexpr (kRotated) {
      overlap = probiou_d(bi, bj);
    } else {
      const float iw = fmaxf(0.0f, __fsub_rn(fminf(bi[2], bj[2]), fmaxf(bi[0], bj[0])));
      const float ih = fmaxf(0.0f, __fsub_rn(fminf(bi[3], bj[3]), fmaxf(bi[1], bj[1])));
      const float inter = __fmul_rn(iw, ih);
      const float area_j = __fmul_rn(__fsub_rn(bj[2], bj[0]), __fsub_rn(bj[3], bj[1]));
      overlap = __fdiv_rn(inter, __fsub_rn(__fadd_rn(area_i, area_j), inter));
    }
    if (overlap > iou) bits |= 1ull << t;
  }
  mask[(static_cast<long long>(b) * k + i) * words + blockIdx.x] = bits;
}

// One warp per image walks the candidates best first; lane w holds word w of the removed set.
// count[b] = -1 when the candidates ran out before max_det were kept while more boxes than the
// candidates passed conf: the kept set could then differ from Ultralytics' (which takes 30000).
// A pose head's kept rows carry their anchor's keypoints, decoded by the warp's lanes together.
struct KeypointSource {
  const unsigned short* head;
  int row;
  HeadLevels lv;
  HeadExtras e;
  const int* order;  // batch x k: the candidates' anchors
};

__global__ void nms_scan_kernel(int k, int anchors, int max_det, bool rotated, const float* top, const float* boxes,
                                const int* cls, const unsigned long long* mask, KeypointSource kp, float* out, int* count) {
  pdl_prologue();
  static_assert(kNmsCandidates <= 2 * 32 * 64, "the scan holds the removed set in two 64-bit words per lane");
  const int b = blockIdx.x, lane = threadIdx.x;
  const int words = (k + 63) / 64;
  // words lane and lane + 32 of the removed set, as two named registers: an array indexed by a runtime
  // value would live in local memory
  unsigned long long removed_lo = 0, removed_hi = 0;
  int kept = 0;
  for (int i = 0; i < k && kept < max_det; ++i) {
    if (!(top[b * k + i] > 0.0f)) break;  // -1: below conf; candidates are sorted, so none follow
    const int w = i / 64;
    const unsigned long long word = __shfl_sync(0xffffffffu, w < 32 ? removed_lo : removed_hi, w % 32);
    const bool removed = (word >> (i % 64)) & 1ull;
    if (removed && !rotated) continue;  // greedy NMS: a removed box removes nothing (fast NMS: it does)
    if (!removed) {
      float* o = out + (static_cast<long long>(b) * max_det + kept) * kp.e.row_floats();
      if (lane == 0) {
        const float* bx = boxes + (static_cast<long long>(b) * k + i) * (rotated ? 5 : 4);
        o[0] = bx[0], o[1] = bx[1], o[2] = bx[2], o[3] = bx[3], o[4] = top[b * k + i], o[5] = static_cast<float>(cls[b * k + i]);
        if (rotated) o[6] = bx[4];
      }
      if (kp.e.kpt_channel >= 0) {
        const int a = kp.order[b * k + i];
        const auto [ax, ay, s] = anchor_point(kp.lv, a);
        decode_keypoints_row(kp.head + (static_cast<long long>(b) * anchors + a) * kp.row, kp.e, ax, ay, s, o + 6, lane, 32);
      }
      ++kept;
    }
    const unsigned long long* row = mask + (static_cast<long long>(b) * k + i) * words;
    if (lane < words) removed_lo |= row[lane];
    if (lane + 32 < words) removed_hi |= row[lane + 32];
  }
  const bool exhausted = kept < max_det && k < anchors && top[b * k + k - 1] > 0.0f;
  if (lane == 0) count[b] = exhausted ? -1 : kept;
}

}  // namespace

void select_nms(const half_bits* head, int batch, int anchors, int nc, int row, const HeadExtras& extras, const HeadLevels& levels,
                float conf, float iou, int max_det, void* workspace, float* out, int* count, void* stream) {
  check_head_extras("CUDA select_nms", row, nc, extras);
  const int angle = extras.angle;
  const bool rotated = angle >= 0;
  // Candidates below conf are marked -1 and the scan stops at the first score not above 0, which agrees
  // with the CPU (score > conf) only for conf >= 0; the Engine refuses a negative conf too.
  if (!(conf >= 0.0f)) throw Error("CUDA select_nms: conf must not be negative");
  auto s = static_cast<cudaStream_t>(stream);
  const int k = kNmsCandidates < anchors ? kNmsCandidates : anchors;
  const std::int64_t b = batch;
  char* ws = static_cast<char*>(workspace);
  Candidates c{};
  c.score = reinterpret_cast<float*>(ws), ws += align_device(b * anchors * 4);
  c.order = reinterpret_cast<int*>(ws), ws += align_device(b * k * 4);
  c.cls = reinterpret_cast<int*>(ws), ws += align_device(b * k * 4);
  c.top = reinterpret_cast<float*>(ws), ws += align_device(b * k * 4);
  c.boxes = reinterpret_cast<float*>(ws), ws += align_device(b * k * (rotated ? 5 : 4) * 4);
  c.mask = reinterpret_cast<unsigned long long*>(ws);
  launch_kernel("nms_scores_kernel", nms_scores_kernel, blocks_for(b * anchors, 256), 256, s, head, batch, anchors, nc,
                row, conf, c.score);
  top_k(c.score, anchors, k, batch, c.order, c.top, stream);  // ties: lower anchor first, as the CPU's stable sort
  launch_kernel("nms_decode_kernel", nms_decode_kernel, blocks_for(b * k, 256), 256, s, head, batch, anchors, nc, row,
                angle, k, levels, c.order, c.boxes, c.cls);
  const int words = (k + 63) / 64;
  launch_kernel("nms_mask_kernel", rotated ? nms_mask_kernel<true> : nms_mask_kernel<false>, dim3(words, words, batch), 64,
                s, k, iou, c.boxes, c.cls, c.mask);
  launch_kernel("nms_scan_kernel", nms_scan_kernel, batch, 32, s, k, anchors, max_det, rotated, c.top, c.boxes, c.cls, c.mask,
                KeypointSource{head, row, levels, extras, c.order}, out, count);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
