// The cuDNN baseline (kernels/cuda/conv2d_cudnn.h): cuDNN 9's graph API for the fused layer, its legacy
// API for the rest. The legacy API is deprecated in cuDNN 9 but present: its warnings are silenced here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "kernels/cuda/conv2d_cudnn.h"

#include <array>
#include <cstdint>
#include <utility>

#include "common/half.h"
#include "kernels/cuda/cudnn_library.h"
#include "kernels/cuda/device_memory.h"
#include "y26/y26.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

const CudnnLibrary& api() {
  std::string why;
  const CudnnLibrary* lib = cudnn_library(&why);
  if (!lib) throw Error("--kernels cudnn: " + why);
  return *lib;
}

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw Error(std::string("cuDNN: ") + what + ": " + api().cudnnGetErrorString(s));
}

// One handle per thread; cuDNN handles are cheap to share across convolutions on one stream.
cudnnHandle_t handle() {
  thread_local cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    check(api().cudnnCreate(&created), "cudnnCreate");
    return created;
  }();
  return h;
}

// The largest power of two up to 16 that divides the address: what a tensor descriptor may promise.
std::int64_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::int64_t align = 16;
  while (align > 2 && a % static_cast<std::uintptr_t>(align) != 0) align /= 2;
  return align;
}

// ---- the graph API: one backend descriptor, destroyed with its owner ----
class Desc {
 public:
  explicit Desc(cudnnBackendDescriptorType_t type) { check(api().cudnnBackendCreateDescriptor(type, &d_), "cudnnBackendCreateDescriptor"); }
  ~Desc() {
    if (d_) api().cudnnBackendDestroyDescriptor(d_);
  }
  Desc(Desc&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  Desc& operator=(Desc&&) = delete;
  Desc(const Desc&) = delete;

  template <class T>
  Desc& set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, const T* values, std::int64_t count = 1) {
    check(api().cudnnBackendSetAttribute(d_, name, type, count, values), "cudnnBackendSetAttribute");
    return *this;
  }
  Desc& set(cudnnBackendAttributeName_t name, const Desc& other) {
    cudnnBackendDescriptor_t d = other.d_;
    return set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, &d);
  }
  Desc& finalize() {
    check(api().cudnnBackendFinalize(d_), "cudnnBackendFinalize");
    return *this;
  }
  cudnnStatus_t try_finalize() { return api().cudnnBackendFinalize(d_); }
  cudnnBackendDescriptor_t get() const { return d_; }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

using Dims = std::array<std::int64_t, 4>;  // cuDNN's order: n, c, h, w

Desc tensor(std::int64_t uid, cudnnDataType_t type, const Dims& dims, const Dims& strides, std::int64_t align, bool is_virtual) {
  Desc t(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  const bool v = is_virtual;
  t.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, &type)
      .set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, dims.data(), 4)
      .set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, strides.data(), 4)
      .set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, &uid)
      .set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, &align)
      .set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, &v);
  return std::move(t.finalize());
}

// An NHWC view as cuDNN's n, c, h, w dimensions and strides
template <class T>
std::pair<Dims, Dims> nchw_of(const View<T>& v) {
  return {{v.n, v.c, v.h, v.w}, {v.image_stride, 1, v.pixel_stride * v.w, v.pixel_stride}};
}

// Descriptors an operation graph refers to stay alive as long as its plan (as cudnn-frontend keeps them).
using Keep = std::vector<std::unique_ptr<Desc>>;

Desc pointwise(cudnnPointwiseMode_t mode, const Desc& x, const Desc* b, const Desc& y, Keep& keep) {
  keep.push_back(std::make_unique<Desc>(CUDNN_BACKEND_POINTWISE_DESCRIPTOR));
  Desc& pw = *keep.back();
  const cudnnDataType_t prec = CUDNN_DATA_FLOAT;
  pw.set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, &mode).set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, &prec);
  if (mode == CUDNN_POINTWISE_SWISH_FWD) {
    const double beta = 1.0;  // swish(x) = x * sigmoid(beta x): SiLU
    pw.set(CUDNN_ATTR_POINTWISE_SWISH_BETA, CUDNN_TYPE_DOUBLE, &beta);
  }
  pw.finalize();
  Desc op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
  op.set(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw).set(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x);
  if (b) op.set(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b);
  op.set(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y);
  return std::move(op.finalize());
}

enum Uid : std::int64_t { kX = 1, kW, kBias, kResidual, kY, kConvOut, kBiased, kActivated };

}  // namespace

bool cudnn_available(std::string* why) {
  const CudnnLibrary* lib = cudnn_library(why);
  if (lib && why) *why = lib->path + ", cuDNN " + std::to_string(lib->version / 10000) + "." + std::to_string(lib->version / 100 % 100) + "." + std::to_string(lib->version % 100);
  return lib != nullptr;
}

struct CudnnConv::Impl {
  CudnnPath path = CudnnPath::ConvThenEpilogue;
  // legacy API
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, z = nullptr, bias_desc = nullptr;  // z: the residual
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t identity = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  std::size_t legacy_workspace = 0;
  // graph API: the plan and the variant pack of the pointers it was last executed with
  std::unique_ptr<Desc> plan, pack;
  std::vector<std::unique_ptr<Desc>> keep;  // every descriptor the plan was built from
  std::string engine;
  std::string graph_refused;  // why the fused graph did not take this layer (for the report)
  std::array<void*, 5> pack_pointers{};  // x, y, residual, workspace, weights: rebuilt when one changes
  std::size_t graph_workspace = 0;
  DeviceBuffer weights, half_bias;
  const float* bias = nullptr;
  Activation act = Activation::None;
  bool residual = false;

  bool build_graph(const ConvParams& p, const View<const half_bits>& in, const View<half_bits>& out,
                   const View<const half_bits>* res, int cin_g, int kh, int kw);
};

// The layer as one cuDNN operation graph: conv -> +bias -> [swish] -> [+residual], FP32 virtual
// intermediates. False when no engine finalizes it (then the legacy paths take the layer).
bool CudnnConv::Impl::build_graph(const ConvParams& p, const View<const half_bits>& in, const View<half_bits>& out,
                                  const View<const half_bits>* res, int cin_g, int kh, int kw) {
  const auto [xd, xs] = nchw_of(in);
  const auto [yd, ys] = nchw_of(out);
  const Dims packed = {yd[1] * yd[2] * yd[3], 1, yd[1] * yd[3], yd[1]};  // virtual tensors: dense NHWC
  Desc X = tensor(kX, CUDNN_DATA_HALF, xd, xs, alignment_of(in.data), false);
  Desc W = tensor(kW, CUDNN_DATA_HALF, {out.c, cin_g, kh, kw}, {static_cast<std::int64_t>(kh) * kw * cin_g, 1,
                                                                  static_cast<std::int64_t>(kw) * cin_g, cin_g},
                  16, false);
  Desc B = tensor(kBias, CUDNN_DATA_FLOAT, {1, out.c, 1, 1}, {out.c, 1, out.c, out.c}, alignment_of(bias), false);
  Desc Y = tensor(kY, CUDNN_DATA_HALF, yd, ys, alignment_of(out.data), false);
  const bool silu = act == Activation::SiLU;
  Desc conv_out = tensor(kConvOut, CUDNN_DATA_FLOAT, yd, packed, 16, true);
  Desc biased = tensor(kBiased, CUDNN_DATA_FLOAT, yd, packed, 16, true);
  Desc activated = tensor(kActivated, CUDNN_DATA_FLOAT, yd, packed, 16, true);
  std::unique_ptr<Desc> R;
  if (res) {
    const auto [rd, rs] = nchw_of(*res);
    R = std::make_unique<Desc>(tensor(kResidual, CUDNN_DATA_HALF, rd, rs, alignment_of(res->data), false));
  }
  Desc cd(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  const std::int64_t dims = 2;
  const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  const std::int64_t one[2] = {1, 1}, stride[2] = {p.stride, p.stride}, pad[2] = {p.pad, p.pad};
  cd.set(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, &dims)
      .set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, &comp)
      .set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, &mode)
      .set(CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, one, 2)
      .set(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, stride, 2)
      .set(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, pad, 2)
      .set(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, pad, 2)
      .finalize();
  Desc conv_op(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
  const float alpha = 1.0f, beta = 0.0f;
  conv_op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, X)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, W)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, conv_out)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, cd)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, &alpha)
      .set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, &beta)
      .finalize();
  // YOLO26's order: y = SiLU(conv + bias) + residual (the residual after the activation)
  const Desc& after_bias = silu || res ? biased : Y;
  const Desc& after_act = silu ? (res ? activated : Y) : after_bias;
  std::vector<Desc> ops;
  ops.push_back(std::move(conv_op));
  ops.push_back(pointwise(CUDNN_POINTWISE_ADD, conv_out, &B, after_bias, keep));
  if (silu) ops.push_back(pointwise(CUDNN_POINTWISE_SWISH_FWD, after_bias, nullptr, after_act, keep));
  if (res) ops.push_back(pointwise(CUDNN_POINTWISE_ADD, after_act, R.get(), Y, keep));
  std::vector<cudnnBackendDescriptor_t> raw;
  for (const auto& o : ops) raw.push_back(o.get());
  Desc graph(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  cudnnHandle_t h = handle();
  graph.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, raw.data(), static_cast<std::int64_t>(raw.size()))
      .set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, &h);
  if (const cudnnStatus_t st = graph.try_finalize(); st != CUDNN_STATUS_SUCCESS) {
    graph_refused = std::string("operation graph: ") + api().cudnnGetErrorString(st);
    return false;
  }

  Desc heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  const cudnnBackendHeurMode_t heur_mode = CUDNN_HEUR_MODE_A;
  heur.set(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph).set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, &heur_mode);
  if (const cudnnStatus_t st = heur.try_finalize(); st != CUDNN_STATUS_SUCCESS) {
    graph_refused = std::string("heuristics: ") + api().cudnnGetErrorString(st);
    return false;
  }
  constexpr int kConfigs = 8;
  std::vector<Desc> configs;
  std::vector<cudnnBackendDescriptor_t> raw_configs;
  for (int i = 0; i < kConfigs; ++i) {
    configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
    raw_configs.push_back(configs.back().get());
  }
  std::int64_t count = 0;
  if (api().cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, kConfigs, &count,
                                     raw_configs.data()) != CUDNN_STATUS_SUCCESS) {
    graph_refused = "heuristics gave no engine configuration";
    return false;
  }
  constexpr std::int64_t kMaxWorkspace = std::int64_t{256} << 20;
  for (std::int64_t i = 0; i < count && i < kConfigs; ++i) {
    auto candidate = std::make_unique<Desc>(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    candidate->set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, &h).set(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, configs[static_cast<size_t>(i)]);
    if (candidate->try_finalize() != CUDNN_STATUS_SUCCESS) continue;
    std::int64_t ws = 0, got = 0;
    if (api().cudnnBackendGetAttribute(candidate->get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &got,
                                       &ws) != CUDNN_STATUS_SUCCESS || ws > kMaxWorkspace)
      continue;
    plan = std::move(candidate);
    graph_workspace = static_cast<std::size_t>(ws);
    for (Desc* d : {&X, &W, &B, &Y, &conv_out, &biased, &activated, &cd, &graph, &heur}) keep.push_back(std::make_unique<Desc>(std::move(*d)));
    if (R) keep.push_back(std::move(R));
    for (auto& o : ops) keep.push_back(std::make_unique<Desc>(std::move(o)));
    for (auto& c : configs) keep.push_back(std::make_unique<Desc>(std::move(c)));
    engine = "heuristic #" + std::to_string(i) + (ws > 0 ? ", workspace " + std::to_string(ws) + " B" : "");
    return true;
  }
  graph_refused = "none of the " + std::to_string(count) + " engine configurations finalized";
  return false;
}

CudnnConv::CudnnConv(const ConvWeights& cw, const ConvParams& p, const View<const half_bits>& in, const View<half_bits>& out,
                     const View<const half_bits>* residual, const float* device_bias, CudnnPath best)
    : impl_(std::make_unique<Impl>()) {
  const CudnnLibrary& lib = api();
  Impl& m = *impl_;
  m.bias = device_bias;
  m.act = p.act;
  m.residual = residual != nullptr;
  const bool depthwise = cw.groups > 1;
  const int cin_g = depthwise ? 1 : cw.cin;
  // KRSC: [cout][kh][kw][cin / groups], FP16
  std::vector<half_bits> krsc(static_cast<size_t>(cw.cout) * cw.kh * cw.kw * cin_g);
  for (int co = 0; co < cw.cout; ++co)
    for (int tap = 0; tap < cw.kh * cw.kw; ++tap)
      for (int ci = 0; ci < cin_g; ++ci) {
        const float v = depthwise ? cw.w[static_cast<size_t>(tap) * cw.cout + co] : cw.w[(static_cast<size_t>(tap) * cw.cin + ci) * cw.cout + co];
        krsc[(static_cast<size_t>(co) * cw.kh * cw.kw + tap) * cin_g + ci] = float_to_half(v);
      }
  m.weights = DeviceBuffer(krsc.size() * 2);
  m.weights.upload(krsc.data(), krsc.size() * 2);

  // The legacy descriptors: the convolution alone, the legacy fused call, and the fallback.
  const auto set_view = [&](cudnnTensorDescriptor_t d, const auto& v) {
    check(lib.cudnnSetTensor4dDescriptorEx(d, CUDNN_DATA_HALF, v.n, v.c, v.h, v.w, static_cast<int>(v.image_stride), 1,
                                           static_cast<int>(v.pixel_stride * v.w), static_cast<int>(v.pixel_stride)),
          "cudnnSetTensor4dDescriptorEx");
  };
  check(lib.cudnnCreateTensorDescriptor(&m.x), "cudnnCreateTensorDescriptor");
  check(lib.cudnnCreateTensorDescriptor(&m.y), "cudnnCreateTensorDescriptor");
  check(lib.cudnnCreateFilterDescriptor(&m.w), "cudnnCreateFilterDescriptor");
  check(lib.cudnnCreateConvolutionDescriptor(&m.conv), "cudnnCreateConvolutionDescriptor");
  set_view(m.x, in);
  set_view(m.y, out);
  check(lib.cudnnSetFilter4dDescriptor(m.w, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, cw.cout, cin_g, cw.kh, cw.kw), "cudnnSetFilter4dDescriptor");
  check(lib.cudnnSetConvolution2dDescriptor(m.conv, p.pad, p.pad, p.stride, p.stride, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  check(lib.cudnnSetConvolutionGroupCount(m.conv, cw.groups), "cudnnSetConvolutionGroupCount");
  check(lib.cudnnSetConvolutionMathType(m.conv, CUDNN_TENSOR_OP_MATH), "cudnnSetConvolutionMathType");
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int returned = 0;
  check(lib.cudnnGetConvolutionForwardAlgorithm_v7(handle(), m.x, m.w, m.conv, m.y, 8, &returned, perf),
        "cudnnGetConvolutionForwardAlgorithm_v7");
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS) {
      m.algo = perf[i].algo;
      break;
    }
  }
  if (best == CudnnPath::ConvOnly) {
    m.path = CudnnPath::ConvOnly;
  } else if (best == CudnnPath::FusedGraph && [&] {
               try {  // a descriptor cuDNN rejects means this layer takes the next path, not a failed run
                 return m.build_graph(p, in, out, residual, cin_g, cw.kh, cw.kw);
               } catch (const Error& e) {
                 m.graph_refused = e.what();
                 return false;
               }
             }()) {
    m.path = CudnnPath::FusedGraph;
  } else if (best != CudnnPath::ConvThenEpilogue && p.act == Activation::None) {
    // y = conv + residual + bias in one call; identity activation needs IMPLICIT_PRECOMP_GEMM, and the bias
    // has the output's data type (FP16) in the pseudo-half configuration
    m.path = CudnnPath::LegacyFused;
    m.algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    std::vector<half_bits> hb(static_cast<size_t>(cw.cout));
    for (int co = 0; co < cw.cout; ++co) hb[static_cast<size_t>(co)] = float_to_half(cw.bias[co]);
    m.half_bias = DeviceBuffer(hb.size() * 2);
    m.half_bias.upload(hb.data(), hb.size() * 2);
    check(lib.cudnnCreateTensorDescriptor(&m.z), "cudnnCreateTensorDescriptor");
    if (residual) set_view(m.z, *residual); else set_view(m.z, out);
    check(lib.cudnnCreateTensorDescriptor(&m.bias_desc), "cudnnCreateTensorDescriptor");
    check(lib.cudnnSetTensor4dDescriptorEx(m.bias_desc, CUDNN_DATA_HALF, 1, cw.cout, 1, 1, cw.cout, 1, cw.cout, cw.cout),
          "cudnnSetTensor4dDescriptorEx");
    check(lib.cudnnCreateActivationDescriptor(&m.identity), "cudnnCreateActivationDescriptor");
    check(lib.cudnnSetActivationDescriptor(m.identity, CUDNN_ACTIVATION_IDENTITY, CUDNN_PROPAGATE_NAN, 0.0), "cudnnSetActivationDescriptor");
  } else {
    m.path = CudnnPath::ConvThenEpilogue;
  }
  check(lib.cudnnGetConvolutionForwardWorkspaceSize(handle(), m.x, m.w, m.conv, m.y, m.algo, &m.legacy_workspace),
        "cudnnGetConvolutionForwardWorkspaceSize");
  workspace_ = m.path == CudnnPath::FusedGraph ? m.graph_workspace : m.legacy_workspace;
}

CudnnConv::~CudnnConv() {
  if (!impl_) return;
  std::string why;
  const CudnnLibrary* lib = cudnn_library(&why);
  if (!lib) return;
  Impl& m = *impl_;
  m.pack.reset();
  m.plan.reset();
  if (m.x) lib->cudnnDestroyTensorDescriptor(m.x);
  if (m.y) lib->cudnnDestroyTensorDescriptor(m.y);
  if (m.z) lib->cudnnDestroyTensorDescriptor(m.z);
  if (m.bias_desc) lib->cudnnDestroyTensorDescriptor(m.bias_desc);
  if (m.w) lib->cudnnDestroyFilterDescriptor(m.w);
  if (m.conv) lib->cudnnDestroyConvolutionDescriptor(m.conv);
  if (m.identity) lib->cudnnDestroyActivationDescriptor(m.identity);
}

CudnnPath CudnnConv::path() const { return impl_->path; }
std::string CudnnConv::path_name() const {
  std::string s = cudnn_path_name(impl_->path);
  if (impl_->path == CudnnPath::FusedGraph) {
    s += std::string(" (conv+bias") + (impl_->act == Activation::SiLU ? "+SiLU" : "") + (impl_->residual ? "+add" : "") + ", " +
         impl_->engine + ")";
  } else if (!impl_->graph_refused.empty()) {
    s += " (fused graph refused: " + impl_->graph_refused + ")";
  }
  return s;
}
std::size_t CudnnConv::weight_bytes() const { return impl_->weights.size() + impl_->half_bias.size(); }

void CudnnConv::run(const View<const half_bits>& in, const View<half_bits>& out, const View<const half_bits>* residual,
                    void* workspace, void* stream) {
  const CudnnLibrary& lib = api();
  Impl& m = *impl_;
  check(lib.cudnnSetStream(handle(), static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  const float one = 1.0f, zero = 0.0f;
  switch (m.path) {
    case CudnnPath::FusedGraph: {
      void* res = residual ? const_cast<half_bits*>(residual->data) : nullptr;
      const std::array<void*, 5> now = {const_cast<half_bits*>(in.data), out.data, res, workspace, m.weights.get()};
      if (!m.pack || now != m.pack_pointers) {  // the executor's views do not move: built once in practice
        std::vector<std::int64_t> uids = {kX, kW, kBias, kY};
        std::vector<void*> ptrs = {now[0], m.weights.get(), const_cast<float*>(m.bias), now[1]};
        if (residual) uids.push_back(kResidual), ptrs.push_back(res);
        auto pack = std::make_unique<Desc>(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
        pack->set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, uids.data(), static_cast<std::int64_t>(uids.size()))
            .set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, ptrs.data(), static_cast<std::int64_t>(ptrs.size()))
            .set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, &workspace)
            .finalize();
        m.pack = std::move(pack);
        m.pack_pointers = now;
      }
      check(lib.cudnnBackendExecute(handle(), m.plan->get(), m.pack->get()), "cudnnBackendExecute (fused layer)");
      return;
    }
    case CudnnPath::LegacyFused:
      // with no residual, z is the output itself with alpha2 = 0 (cuDNN reads it; it holds nothing that matters)
      check(lib.cudnnConvolutionBiasActivationForward(handle(), &one, m.x, in.data, m.w, m.weights.get(), m.conv, m.algo, workspace,
                                                      m.legacy_workspace, residual ? &one : &zero, m.z,
                                                      residual ? static_cast<const void*>(residual->data) : out.data,
                                                      m.bias_desc, m.half_bias.get(), m.identity, m.y, out.data),
            "cudnnConvolutionBiasActivationForward");
      return;
    case CudnnPath::ConvThenEpilogue:
    case CudnnPath::ConvOnly:
      check(lib.cudnnConvolutionForward(handle(), &one, m.x, in.data, m.w, m.weights.get(), m.conv, m.algo, workspace,
                                        m.legacy_workspace, &zero, m.y, out.data),
            "cudnnConvolutionForward");
      if (m.path == CudnnPath::ConvThenEpilogue) conv_epilogue(out, m.bias, m.act, residual, stream);
      return;
  }
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
