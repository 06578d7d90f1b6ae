// Conv2D forward (optionally fused bias + activation), backward-data and backward-filter over oneDNN.
// Activations are NHWC (tfjs layout) and used in place; weights are tfjs HWIO, reordered each call into
// the layout oneDNN picks (format_tag::any), because plain HWIO weights run at about half speed.
#include <map>
#include <memory>
#include <tuple>

#include "activation.h"
#include "common.h"
#include "engine.h"
#include "kernels.h"

namespace mnist {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// [N, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight]
struct ConvGeometry {
  int64_t n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  memory::dims Src() const { return {n, ic, ih, iw}; }
  memory::dims Dst() const { return {n, oc, oh, ow}; }
  memory::dims Wei() const { return {oc, ic, kh, kw}; }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilates() const { return {dh - 1, dw - 1}; }
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
};

ConvGeometry GetGeometry(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  std::vector<int64_t> p = GetInts(info, i, "conv params");
  ONEDNN_CHECK(env, p.size() == 17, RangeError, "Expected 17 conv params but found " + std::to_string(p.size()));
  ConvGeometry g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15], p[16]};
  for (int64_t v : {g.n, g.ih, g.iw, g.ic, g.oh, g.ow, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw})
    ONEDNN_CHECK(env, v > 0, RangeError, "Expected positive conv dimensions, strides and dilations");
  // oneDNN needs the output size to follow from input, filter, stride and padding exactly.
  int64_t ekh = (g.kh - 1) * g.dh + 1, ekw = (g.kw - 1) * g.dw + 1;
  ONEDNN_CHECK(env, (g.ih + g.pt + g.pb - ekh) / g.sh + 1 == g.oh && (g.iw + g.pl + g.pr - ekw) / g.sw + 1 == g.ow,
               RangeError, "Expected conv output size to match input, filter, stride and padding");
  return g;
}

memory::desc Md(const memory::dims& d, tag t) { return memory::desc(d, dt::f32, t); }

dnnl::convolution_forward::primitive_desc ForwardPd(const ConvGeometry& g, bool bias, const dnnl::primitive_attr& attr) {
  auto d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                  Md(g.Src(), tag::nhwc), Md(g.Wei(), tag::any),
                                                  Md({g.oc}, tag::x), Md(g.Dst(), tag::nhwc), g.Strides(),
                                                  g.Dilates(), g.PadL(), g.PadR())
                : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                  Md(g.Src(), tag::nhwc), Md(g.Wei(), tag::any), Md(g.Dst(), tag::nhwc),
                                                  g.Strides(), g.Dilates(), g.PadL(), g.PadR());
  return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
}

using Key = std::tuple<int, std::vector<int64_t>, int, float>;

std::vector<int64_t> KeyDims(const ConvGeometry& g) {
  return {g.n, g.ih, g.iw, g.ic, g.oh, g.ow, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr};
}

// A primitive plus the reorder between tfjs's HWIO weights and the primitive's chosen weights layout.
struct ConvPlan {
  dnnl::primitive conv;
  memory src, wei, bias, dst;       // user-side memories; handles rebound every call
  memory weiUser;                   // HWIO view of the JS array
  bool needReorder = false;
  dnnl::reorder weiReorder;
};

// Never destroyed, like the engine (see addon.cc).
std::map<Key, std::unique_ptr<ConvPlan>>& Cache() {
  static auto* cache = new std::map<Key, std::unique_ptr<ConvPlan>>();
  return *cache;
}

}  // namespace

// conv2dForward(x, w(HWIO), bias|null, y, params[17], activation, alpha)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "x");
  auto w = GetArray<float>(info, 1, "filter");
  auto b = GetArray<float>(info, 2, "bias", true);
  auto y = GetArray<float>(info, 3, "output");
  ConvGeometry g = GetGeometry(info, 4);
  int64_t act = GetInt(info, 5, "activation");
  float alpha = static_cast<float>(GetDouble(info, 6, "alpha"));
  CheckSize(env, x, g.n * g.ih * g.iw * g.ic, "x");
  CheckSize(env, w, g.kh * g.kw * g.ic * g.oc, "filter");
  CheckSize(env, y, g.n * g.oh * g.ow * g.oc, "output");
  if (b.data) CheckSize(env, b, g.oc, "bias");

  Key key{b.data ? 1 : 0, KeyDims(g), 0, 0.f};
  ONEDNN_CHECK(env, act >= 0 && act <= 5, RangeError, "Expected activation code 0..5 but found " + std::to_string(act));
  auto& plan = Cache()[key];
  if (!plan) {
    plan = std::make_unique<ConvPlan>();
    auto pd = ForwardPd(g, b.data != nullptr, dnnl::primitive_attr());
    plan->conv = dnnl::convolution_forward(pd);
    plan->src = memory(pd.src_desc(), Engine(), DNNL_MEMORY_NONE);
    plan->dst = memory(pd.dst_desc(), Engine(), DNNL_MEMORY_NONE);
    if (b.data) plan->bias = memory(pd.bias_desc(), Engine(), DNNL_MEMORY_NONE);
    plan->weiUser = memory(Md(g.Wei(), tag::hwio), Engine(), DNNL_MEMORY_NONE);
    plan->needReorder = pd.weights_desc() != plan->weiUser.get_desc();
    if (plan->needReorder) {
      plan->wei = memory(pd.weights_desc(), Engine());
      plan->weiReorder = dnnl::reorder(plan->weiUser, plan->wei);
    }
  }
  auto& s = Stream();
  plan->src.set_data_handle(x.data);
  plan->dst.set_data_handle(y.data);
  plan->weiUser.set_data_handle(w.data);
  if (plan->needReorder) plan->weiReorder.execute(s, plan->weiUser, plan->wei);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, plan->src},
                                       {DNNL_ARG_WEIGHTS, plan->needReorder ? plan->wei : plan->weiUser},
                                       {DNNL_ARG_DST, plan->dst}};
  if (b.data) {
    plan->bias.set_data_handle(b.data);
    args[DNNL_ARG_BIAS] = plan->bias;
  }
  plan->conv.execute(s, args);
  s.wait();
  // The activation runs here rather than as a oneDNN post-op, whose relu maps NaN to 0 (tfjs-cpu keeps NaN).
  if (act != 0) BiasActivation(y.data, nullptr, g.n * g.oh * g.ow, g.oc, act, alpha);
  return env.Undefined();
}

// conv2dBackwardData(dy, w(HWIO), dx, params[17])
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dy = GetArray<float>(info, 0, "dy");
  auto w = GetArray<float>(info, 1, "filter");
  auto dx = GetArray<float>(info, 2, "dx");
  ConvGeometry g = GetGeometry(info, 3);
  CheckSize(env, dy, g.n * g.oh * g.ow * g.oc, "dy");
  CheckSize(env, w, g.kh * g.kw * g.ic * g.oc, "filter");
  CheckSize(env, dx, g.n * g.ih * g.iw * g.ic, "dx");

  Key key{2, KeyDims(g), 0, 0.f};
  auto& plan = Cache()[key];
  if (!plan) {
    plan = std::make_unique<ConvPlan>();
    auto hint = ForwardPd(g, false, dnnl::primitive_attr());
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, Md(g.Src(), tag::nhwc),
                                            Md(g.Wei(), tag::any), Md(g.Dst(), tag::nhwc), g.Strides(),
                                            g.Dilates(), g.PadL(), g.PadR());
    dnnl::convolution_backward_data::primitive_desc pd(d, Engine(), hint);
    plan->conv = dnnl::convolution_backward_data(pd);
    plan->src = memory(pd.diff_src_desc(), Engine(), DNNL_MEMORY_NONE);
    plan->dst = memory(pd.diff_dst_desc(), Engine(), DNNL_MEMORY_NONE);
    plan->weiUser = memory(Md(g.Wei(), tag::hwio), Engine(), DNNL_MEMORY_NONE);
    plan->needReorder = pd.weights_desc() != plan->weiUser.get_desc();
    if (plan->needReorder) {
      plan->wei = memory(pd.weights_desc(), Engine());
      plan->weiReorder = dnnl::reorder(plan->weiUser, plan->wei);
    }
  }
  auto& s = Stream();
  plan->src.set_data_handle(dx.data);
  plan->dst.set_data_handle(dy.data);
  plan->weiUser.set_data_handle(w.data);
  if (plan->needReorder) plan->weiReorder.execute(s, plan->weiUser, plan->wei);
  plan->conv.execute(s, {{DNNL_ARG_DIFF_SRC, plan->src},
                         {DNNL_ARG_WEIGHTS, plan->needReorder ? plan->wei : plan->weiUser},
                         {DNNL_ARG_DIFF_DST, plan->dst}});
  s.wait();
  return env.Undefined();
}

// conv2dBackwardFilter(x, dy, dw(HWIO), params[17])
Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "x");
  auto dy = GetArray<float>(info, 1, "dy");
  auto dw = GetArray<float>(info, 2, "dw");
  ConvGeometry g = GetGeometry(info, 3);
  CheckSize(env, x, g.n * g.ih * g.iw * g.ic, "x");
  CheckSize(env, dy, g.n * g.oh * g.ow * g.oc, "dy");
  CheckSize(env, dw, g.kh * g.kw * g.ic * g.oc, "dw");

  Key key{3, KeyDims(g), 0, 0.f};
  auto& plan = Cache()[key];
  if (!plan) {
    plan = std::make_unique<ConvPlan>();
    auto hint = ForwardPd(g, false, dnnl::primitive_attr());
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, Md(g.Src(), tag::nhwc),
                                               Md(g.Wei(), tag::any), Md(g.Dst(), tag::nhwc), g.Strides(),
                                               g.Dilates(), g.PadL(), g.PadR());
    dnnl::convolution_backward_weights::primitive_desc pd(d, Engine(), hint);
    plan->conv = dnnl::convolution_backward_weights(pd);
    plan->src = memory(pd.src_desc(), Engine(), DNNL_MEMORY_NONE);
    plan->dst = memory(pd.diff_dst_desc(), Engine(), DNNL_MEMORY_NONE);
    plan->weiUser = memory(Md(g.Wei(), tag::hwio), Engine(), DNNL_MEMORY_NONE);
    plan->needReorder = pd.diff_weights_desc() != plan->weiUser.get_desc();
    if (plan->needReorder) {
      plan->wei = memory(pd.diff_weights_desc(), Engine());
      plan->weiReorder = dnnl::reorder(plan->wei, plan->weiUser);
    }
  }
  auto& s = Stream();
  plan->src.set_data_handle(x.data);
  plan->dst.set_data_handle(dy.data);
  plan->weiUser.set_data_handle(dw.data);
  plan->conv.execute(s, {{DNNL_ARG_SRC, plan->src},
                         {DNNL_ARG_DIFF_WEIGHTS, plan->needReorder ? plan->wei : plan->weiUser},
                         {DNNL_ARG_DIFF_DST, plan->dst}});
  if (plan->needReorder) plan->weiReorder.execute(s, plan->wei, plan->weiUser);
  s.wait();
  return env.Undefined();
}

}  // namespace mnist
