// Conv2D forward (optionally fused bias + activation), backward-data and backward-filter over oneDNN.
// Activations are NHWC (tfjs layout) and used in place; weights are tfjs HWIO, reordered each call into
// the layout oneDNN picks (format_tag::any), because plain HWIO weights send oneDNN to a slower gemm path.
// In bfloat16 precision the activations a pass reads and its weights are rounded to bf16 copies (oneDNN reorders);
// it accumulates and writes float32, so every array that crosses N-API stays float32.
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "activation.h"
#include "common.h"
#include "engine.h"
#include "enums.h"
#include "kernels.h"

namespace mnist {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// A convolution's geometry, read by name from tfjs's backend_util.Conv2DInfo (the only description of its fields).
struct ConvGeometry {
  int64_t n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  memory::dims Src() const { return {n, ic, ih, iw}; }
  memory::dims Dst() const { return {n, oc, oh, ow}; }
  memory::dims Wei() const { return {oc, ic, kh, kw}; }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilates() const { return {dh - 1, dw - 1}; }
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
  int64_t SrcSize() const { return n * ih * iw * ic; }
  int64_t DstSize() const { return n * oh * ow * oc; }
  int64_t WeiSize() const { return kh * kw * ic * oc; }
  std::vector<int64_t> Key() const { return {n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr}; }
};

ConvGeometry GetGeometry(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Fields c(info, i, "conv");
  Fields pad = c.Object("padInfo");
  ConvGeometry g{c.Int("batchSize", 1),    c.Int("inHeight", 1),      c.Int("inWidth", 1),        c.Int("inChannels", 1),
                 c.Int("outHeight", 1),    c.Int("outWidth", 1),      c.Int("outChannels", 1),    c.Int("filterHeight", 1),
                 c.Int("filterWidth", 1),  c.Int("strideHeight", 1),  c.Int("strideWidth", 1),    c.Int("dilationHeight", 1),
                 c.Int("dilationWidth", 1), pad.Int("top", 0),        pad.Int("left", 0),         pad.Int("bottom", 0),
                 pad.Int("right", 0)};
  // oneDNN needs the output size to follow from input, filter, stride and padding exactly.
  int64_t ekh = (g.kh - 1) * g.dh + 1, ekw = (g.kw - 1) * g.dw + 1;
  int64_t oh = (g.ih + g.pt + g.pb - ekh) / g.sh + 1, ow = (g.iw + g.pl + g.pr - ekw) / g.sw + 1;
  ONEDNN_CHECK(env, oh == g.oh && ow == g.ow, RangeError,
               "Expected conv output size " + std::to_string(oh) + "x" + std::to_string(ow) +
                   " (from input, filter, stride and padding) but found " + std::to_string(g.oh) + "x" + std::to_string(g.ow));
  return g;
}

memory::desc Md(const memory::dims& d, tag t, dt type = dt::f32) { return memory::desc(d, type, t); }

using Precision = conv_precision::Code;

// What a pass reads (its input activations and weights) is in `low`; what it writes stays f32.
dt Low(Precision p) { return p == conv_precision::kBfloat16 ? dt::bf16 : dt::f32; }

dnnl::convolution_forward::primitive_desc ForwardPd(const ConvGeometry& g, bool bias, Precision p) {
  const dt low = Low(p);
  auto d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                  Md(g.Src(), tag::nhwc, low), Md(g.Wei(), tag::any, low),
                                                  Md({g.oc}, tag::x), Md(g.Dst(), tag::nhwc), g.Strides(),
                                                  g.Dilates(), g.PadL(), g.PadR())
                : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                  Md(g.Src(), tag::nhwc, low), Md(g.Wei(), tag::any, low), Md(g.Dst(), tag::nhwc),
                                                  g.Strides(), g.Dilates(), g.PadL(), g.PadR());
  return dnnl::convolution_forward::primitive_desc(d, Engine());
}

enum Pass { kForward, kForwardBias, kBackwardData, kBackwardFilter };

// One NHWC activation of a pass: the JS array's f32 view, bound in place, and, where the primitive reads another
// number format (bf16), the copy it reads, converted before each run.
struct Activation {
  int arg;      // the DNNL_ARG_* it binds to
  memory user;  // handle rebound every call
  memory converted;
  dnnl::reorder convert;
  bool needsConvert = false;

  void Init(int dnnlArg, const memory::desc& primitiveDesc, const memory::dims& dims) {
    arg = dnnlArg;
    user = memory(Md(dims, tag::nhwc), Engine(), DNNL_MEMORY_NONE);
    needsConvert = primitiveDesc != user.get_desc();
    if (needsConvert) {
      converted = memory(primitiveDesc, Engine());
      convert = dnnl::reorder(user, converted);
    }
  }
  // Binds `data` and returns the memory the primitive takes (converting `data` into it first if needed; the arrays a
  // pass writes are f32 NHWC as asked, so they are never converted).
  const memory& Bind(dnnl::stream& s, float* data) {
    user.set_data_handle(data);
    if (!needsConvert) return user;
    convert.execute(s, user, converted);
    return converted;
  }
};

// One cached primitive: its NHWC activations bound in place, and tfjs's HWIO weights reordered to (forward and
// backward-data) or from (backward-filter, whose weights are its output) the layout the primitive chose.
struct ConvPlan {
  dnnl::primitive conv;
  Activation src, dst;  // dst is the output (forward), or the gradient read (backward passes)
  int weiArg;           // the DNNL_ARG_* the weights bind to
  memory bias;          // user-side; handle rebound every call
  memory weiUser;       // HWIO view of the JS array
  memory wei;           // the primitive's layout, when it differs from HWIO
  bool needReorder = false;
  bool weightsOut = false;
  dnnl::reorder weiReorder;

  // Binds the arrays and runs the primitive (bias may be null), reordering weights on the side they flow.
  void Run(float* srcData, float* dstData, float* weiData, float* biasData) {
    auto& s = Stream();
    weiUser.set_data_handle(weiData);
    if (needReorder && !weightsOut) weiReorder.execute(s, weiUser, wei);
    std::unordered_map<int, memory> args{
        {src.arg, src.Bind(s, srcData)}, {weiArg, needReorder ? wei : weiUser}, {dst.arg, dst.Bind(s, dstData)}};
    if (biasData) {
      bias.set_data_handle(biasData);
      args[DNNL_ARG_BIAS] = bias;
    }
    conv.execute(s, args);
    if (needReorder && weightsOut) weiReorder.execute(s, wei, weiUser);
    s.wait();
  }
};

// A plan over primitive descriptor pd, whose activations and weights have the given descriptors.
template <typename Primitive, typename Pd>
std::unique_ptr<ConvPlan> MakePlan(const ConvGeometry& g, const Pd& pd, const memory::desc& srcDesc, const memory::desc& dstDesc,
                                   const memory::desc& weiDesc, int srcArg, int dstArg, int weiArg, bool weightsOut) {
  auto plan = std::make_unique<ConvPlan>();
  plan->conv = Primitive(pd);
  plan->src.Init(srcArg, srcDesc, g.Src());
  plan->dst.Init(dstArg, dstDesc, g.Dst());
  plan->weiArg = weiArg;
  plan->weightsOut = weightsOut;
  plan->weiUser = memory(Md(g.Wei(), tag::hwio), Engine(), DNNL_MEMORY_NONE);
  plan->needReorder = weiDesc != plan->weiUser.get_desc();
  if (plan->needReorder) {
    plan->wei = memory(weiDesc, Engine());
    plan->weiReorder = weightsOut ? dnnl::reorder(plan->wei, plan->weiUser) : dnnl::reorder(plan->weiUser, plan->wei);
  }
  return plan;
}

// A backward pass's operation descriptor (backward-data and backward-weights take the same arguments).
// Backward-data reads the output's gradient and the weights (low) and writes the input's gradient (f32);
// backward-weights reads the input and the output's gradient (low) and writes the weights' gradient (f32).
template <typename Desc>
Desc BackwardDesc(const ConvGeometry& g, dt srcType, dt weiType, dt dstType) {
  return Desc(dnnl::algorithm::convolution_direct, Md(g.Src(), tag::nhwc, srcType), Md(g.Wei(), tag::any, weiType),
              Md(g.Dst(), tag::nhwc, dstType), g.Strides(), g.Dilates(), g.PadL(), g.PadR());
}

std::unique_ptr<ConvPlan> NewPlan(Pass pass, const ConvGeometry& g, Precision p) {
  const dt low = Low(p);
  if (pass == kForward || pass == kForwardBias) {
    auto pd = ForwardPd(g, pass == kForwardBias, p);
    auto plan = MakePlan<dnnl::convolution_forward>(g, pd, pd.src_desc(), pd.dst_desc(), pd.weights_desc(), DNNL_ARG_SRC,
                                                    DNNL_ARG_DST, DNNL_ARG_WEIGHTS, false);
    if (pass == kForwardBias) plan->bias = memory(pd.bias_desc(), Engine(), DNNL_MEMORY_NONE);
    return plan;
  }
  // Backward passes take the forward primitive descriptor as a hint.
  if (pass == kBackwardData) {
    using Bwd = dnnl::convolution_backward_data;
    Bwd::primitive_desc pd(BackwardDesc<Bwd::desc>(g, dt::f32, low, low), Engine(), ForwardPd(g, false, p));
    return MakePlan<Bwd>(g, pd, pd.diff_src_desc(), pd.diff_dst_desc(), pd.weights_desc(), DNNL_ARG_DIFF_SRC, DNNL_ARG_DIFF_DST,
                         DNNL_ARG_WEIGHTS, false);
  }
  using Bwd = dnnl::convolution_backward_weights;
  Bwd::primitive_desc pd(BackwardDesc<Bwd::desc>(g, low, dt::f32, low), Engine(), ForwardPd(g, false, p));
  return MakePlan<Bwd>(g, pd, pd.src_desc(), pd.diff_dst_desc(), pd.diff_weights_desc(), DNNL_ARG_SRC, DNNL_ARG_DIFF_DST,
                       DNNL_ARG_DIFF_WEIGHTS, true);
}

// The cached plan of a pass over a geometry in a precision. Never destroyed, like the engine (see addon.cc).
ConvPlan& Plan(Pass pass, const ConvGeometry& g, Precision p) {
  static auto* cache = new std::map<std::tuple<int, int, std::vector<int64_t>>, std::unique_ptr<ConvPlan>>();
  auto& plan = (*cache)[{pass, p, g.Key()}];
  if (!plan) plan = NewPlan(pass, g, p);
  return *plan;
}

// The precision argument i; bfloat16 only where oneDNN has native bf16 kernels (AVX512_BF16 or AMX): elsewhere it
// would fall back to reference loops many times slower than float32.
Precision GetPrecision(const Napi::CallbackInfo& info, size_t i) {
  const Precision p = GetCode(info, i, "conv precision", conv_precision::kCount);
  const int isa = static_cast<int>(dnnl::get_effective_cpu_isa()), bf16 = static_cast<int>(dnnl::cpu_isa::avx512_core_bf16);
  ONEDNN_CHECK(info.Env(), p != conv_precision::kBfloat16 || (isa & bf16) == bf16, RangeError,
               "Expected a CPU whose oneDNN kernels have AVX512_BF16 or AMX for bfloat16 convolutions but found ISA code " +
                   std::to_string(isa));
  return p;
}

// The arrays of a conv call: activations in (src), activations out or their gradient (dst) and weights (wei).
enum Role { kSrc, kDst, kWei };
struct ConvArg {
  size_t index;
  const char* name;
  Role role;
};
struct ConvCall {
  ConvGeometry g;
  float* data[3];  // by Role
};

// Reads the three arrays, in argument order, and the geometry (argument geometryArg), and checks each array's size.
ConvCall GetConvCall(const Napi::CallbackInfo& info, const ConvArg (&args)[3], size_t geometryArg) {
  Span<float> spans[3];
  for (int k = 0; k < 3; ++k) spans[k] = GetArray<float>(info, args[k].index, args[k].name);
  ConvCall call{GetGeometry(info, geometryArg), {}};
  for (int k = 0; k < 3; ++k) {
    const Role role = args[k].role;
    CheckSize(info.Env(), spans[k], role == kSrc ? call.g.SrcSize() : role == kDst ? call.g.DstSize() : call.g.WeiSize(), args[k].name);
    call.data[role] = spans[k].data;
  }
  return call;
}

}  // namespace

// conv2dForward(x, w(HWIO), bias|null, y, conv, activation, alpha, precision)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  ConvCall c = GetConvCall(info, {{0, "x", kSrc}, {1, "filter", kWei}, {3, "output", kDst}}, 4);
  auto b = GetArray<float>(info, 2, "bias", true);
  if (b.data) CheckSize(info.Env(), b, c.g.oc, "bias");
  auto act = GetCode(info, 5, "activation code", activation::kCount);
  float alpha = static_cast<float>(GetDouble(info, 6, "alpha"));
  Plan(b.data ? kForwardBias : kForward, c.g, GetPrecision(info, 7)).Run(c.data[kSrc], c.data[kDst], c.data[kWei], b.data);
  // The activation runs here rather than as a oneDNN post-op, whose relu maps NaN to 0 (tfjs-cpu keeps NaN).
  if (act != activation::kLinear) BiasActivation(c.data[kDst], nullptr, c.g.n * c.g.oh * c.g.ow, c.g.oc, act, alpha);
  return info.Env().Undefined();
}

// conv2dBackwardData(dy, w(HWIO), dx, conv, precision)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  ConvCall c = GetConvCall(info, {{0, "dy", kDst}, {1, "filter", kWei}, {2, "dx", kSrc}}, 3);
  Plan(kBackwardData, c.g, GetPrecision(info, 4)).Run(c.data[kSrc], c.data[kDst], c.data[kWei], nullptr);
  return info.Env().Undefined();
}

// conv2dBackwardFilter(x, dy, dw(HWIO), conv, precision)
Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo& info) {
  ConvCall c = GetConvCall(info, {{0, "x", kSrc}, {1, "dy", kDst}, {2, "dw", kWei}}, 3);
  Plan(kBackwardFilter, c.g, GetPrecision(info, 4)).Run(c.data[kSrc], c.data[kDst], c.data[kWei], nullptr);
  return info.Env().Undefined();
}

}  // namespace mnist
