// The detection head's rows on the device, as the end-to-end selection (topk.cu) and NMS (nms.cu)
// both read them: per anchor [4 box distances (l, t, r, b), nc class logits, the task's extra channels
// (OBB: the angle; pose: the keypoints)], FP16. And the oriented boxes' arithmetic, in the CPU twin's float steps
// (runtime/obb.cpp), explicit _rn so that nothing is contracted into an FMA.
#pragma once

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN

__device__ __forceinline__ float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// sigmoid of the largest class logit of an anchor's row.
__device__ __forceinline__ float best_class_score(const unsigned short* row, int nc) {
  float m = -INFINITY;
  for (int c = 0; c < nc; ++c) m = fmaxf(m, load_half(row + 4 + c));
  return sigmoid(m);
}

// Anchor a's centre in its level's grid cells (x + 0.5, y + 0.5) and the level's stride.
struct AnchorPoint {
  float x, y, stride;
};
__device__ __forceinline__ AnchorPoint anchor_point(const HeadLevels& lv, int a) {
  int l = 0;
  while (l + 1 < lv.count && a >= lv.anchor_offset[l + 1]) ++l;
  const int local = a - lv.anchor_offset[l];
  return {static_cast<float>(local % lv.w[l]) + 0.5f, static_cast<float>(local / lv.w[l]) + 0.5f, lv.stride[l]};
}

// runtime::decode_rotated: dist2rbox about the anchor (ax, ay), x stride; the angle is channel `angle` of
// the row. cosf and sinf may differ from the host's libm in the last bit (the emulator calls the host's).
struct RotatedBoxD {
  float cx, cy, w, h, angle;
};
__device__ __forceinline__ RotatedBoxD decode_rotated_row(const unsigned short* r, int angle, float ax, float ay, float s) {
  const float l = load_half(r + 0), t = load_half(r + 1), rr = load_half(r + 2), bb = load_half(r + 3);
  const float th = load_half(r + angle);
  const float c = cosf(th), sn = sinf(th);
  const float xf = __fdiv_rn(__fsub_rn(rr, l), 2.0f), yf = __fdiv_rn(__fsub_rn(bb, t), 2.0f);
  const float x = __fsub_rn(__fmul_rn(xf, c), __fmul_rn(yf, sn)), y = __fadd_rn(__fmul_rn(xf, sn), __fmul_rn(yf, c));
  return {__fmul_rn(__fadd_rn(x, ax), s), __fmul_rn(__fadd_rn(y, ay), s), __fmul_rn(__fadd_rn(l, rr), s),
          __fmul_rn(__fadd_rn(t, bb), s), th};
}

// runtime::decode_keypoints: keypoints first, first + step, ... of the row, into o (kpt_dim floats each):
// (raw + anchor) * stride for x and y, the visibility's sigmoid.
__device__ __forceinline__ void decode_keypoints_row(const unsigned short* r, const HeadExtras& e, float ax, float ay,
                                                     float s, float* o, int first, int step) {
  for (int j = first; j < e.kpt_n; j += step) {
    const unsigned short* k = r + e.kpt_channel + j * e.kpt_dim;
    float* oj = o + j * e.kpt_dim;
    oj[0] = __fmul_rn(__fadd_rn(load_half(k), ax), s);
    oj[1] = __fmul_rn(__fadd_rn(load_half(k + 1), ay), s);
    if (e.kpt_dim == 3) oj[2] = sigmoid(load_half(k + 2));
  }
}

// runtime::probiou (Ultralytics' batch_probiou) of boxes p and q, each [cx, cy, w, h, angle].
__device__ __forceinline__ float probiou_d(const float* p, const float* q) {
  constexpr float eps = 1e-7f;
  const auto cov = [](const float* r, float& a, float& b, float& c) {
    const float a0 = __fdiv_rn(__fmul_rn(r[2], r[2]), 12.0f), b0 = __fdiv_rn(__fmul_rn(r[3], r[3]), 12.0f);
    const float cs = cosf(r[4]), sn = sinf(r[4]);
    const float cos2 = __fmul_rn(cs, cs), sin2 = __fmul_rn(sn, sn);
    a = __fadd_rn(__fmul_rn(a0, cos2), __fmul_rn(b0, sin2));
    b = __fadd_rn(__fmul_rn(a0, sin2), __fmul_rn(b0, cos2));
    c = __fmul_rn(__fmul_rn(__fsub_rn(a0, b0), cs), sn);
  };
  float pa, pb, pc, qa, qb, qc;
  cov(p, pa, pb, pc);
  cov(q, qa, qb, qc);
  const float a = __fadd_rn(pa, qa), b = __fadd_rn(pb, qb), c = __fadd_rn(pc, qc);
  const float dx = __fsub_rn(p[0], q[0]), dy = __fsub_rn(p[1], q[1]);
  const float ab_cc = __fsub_rn(__fmul_rn(a, b), __fmul_rn(c, c));
  const float denom = __fadd_rn(ab_cc, eps);
  const float t1 = __fmul_rn(__fdiv_rn(__fadd_rn(__fmul_rn(a, __fmul_rn(dy, dy)), __fmul_rn(b, __fmul_rn(dx, dx))), denom), 0.25f);
  const float t2 = __fmul_rn(__fdiv_rn(__fmul_rn(__fmul_rn(c, __fsub_rn(q[0], p[0])), dy), denom), 0.5f);
  const float det_p = fmaxf(__fsub_rn(__fmul_rn(pa, pb), __fmul_rn(pc, pc)), 0.0f);
  const float det_q = fmaxf(__fsub_rn(__fmul_rn(qa, qb), __fmul_rn(qc, qc)), 0.0f);
  const float t3 =
      __fmul_rn(logf(__fadd_rn(__fdiv_rn(ab_cc, __fadd_rn(__fmul_rn(4.0f, __fsqrt_rn(__fmul_rn(det_p, det_q))), eps)), eps)), 0.5f);
  const float bd = fminf(fmaxf(__fadd_rn(__fadd_rn(t1, t2), t3), eps), 100.0f);
  const float hd = __fsqrt_rn(__fadd_rn(__fsub_rn(1.0f, expf(-bd)), eps));
  return __fsub_rn(1.0f, hd);
}

// Head rows of `row` floats hold the box, nc logits and what `e` says is after them, or this throws, naming `who`.
inline void check_head_extras(const char* who, int row, int nc, const HeadExtras& e) {
  const bool angle_ok = e.angle < 0 || (e.angle >= 4 + nc && e.angle < row);
  const bool kpts_ok = e.kpt_channel < 0 || (e.angle < 0 && e.kpt_channel >= 4 + nc && e.kpt_n > 0 &&
                                             (e.kpt_dim == 2 || e.kpt_dim == 3) && e.kpt_channel + e.kpt_n * e.kpt_dim <= row);
  if (row >= 4 + nc && angle_ok && kpts_ok) return;
  std::string what = std::string(who) + ": head rows of " + std::to_string(row) + " floats cannot hold 4 + " + std::to_string(nc) + " classes";
  if (e.angle >= 0) what += " and an angle at " + std::to_string(e.angle);
  if (e.kpt_channel >= 0)
    what += " and " + std::to_string(e.kpt_n) + " keypoints of " + std::to_string(e.kpt_dim) + " at " + std::to_string(e.kpt_channel);
  throw Error(what);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
