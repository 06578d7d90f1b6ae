// Max pooling and its gradient on NHWC, as plain loops vectorised over channels and split over threads.
// Ties and NaN follow tfjs-cpu: the first strictly greater value wins, NaN never does.
#include <limits>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace mnist {
namespace {

// A pooling's geometry, read by name from tfjs's backend_util.Pool2DInfo (the only description of its fields).
struct PoolGeometry {
  int64_t n, ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl;
  int64_t InSize() const { return n * ih * iw * c; }
  int64_t OutSize() const { return n * oh * ow * c; }

  // visit(iy, ix) for each input position of output (oy, ox)'s window that lies inside the input, row by row.
  template <typename Visit>
  void ForEachInWindow(int64_t oy, int64_t ox, Visit visit) const {
    for (int64_t fy = 0; fy < fh; ++fy) {
      int64_t iy = oy * sh - pt + fy;
      if (iy < 0 || iy >= ih) continue;
      for (int64_t fx = 0; fx < fw; ++fx) {
        int64_t ix = ox * sw - pl + fx;
        if (ix < 0 || ix >= iw) continue;
        visit(iy, ix);
      }
    }
  }
};

PoolGeometry GetPool(const Napi::CallbackInfo& info, size_t i) {
  Fields p(info, i, "pool");
  Fields pad = p.Object("padInfo");
  return {p.Int("batchSize", 0),   p.Int("inHeight", 0),     p.Int("inWidth", 0),     p.Int("inChannels", 0),
          p.Int("outHeight", 0),   p.Int("outWidth", 0),     p.Int("filterHeight", 1), p.Int("filterWidth", 1),
          p.Int("strideHeight", 1), p.Int("strideWidth", 1), pad.Int("top", 0),       pad.Int("left", 0)};
}

}  // namespace

// maxPool(x, y, pool)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "x");
  auto y = GetArray<float>(info, 1, "output");
  PoolGeometry g = GetPool(info, 2);
  CheckSize(env, x, g.InSize(), "x");
  CheckSize(env, y, g.OutSize(), "output");
  const float lowest = -std::numeric_limits<float>::infinity();
#pragma omp parallel for if (g.OutSize() > kParallelGrain) schedule(static)
  for (int64_t row = 0; row < g.n * g.oh; ++row) {
    int64_t b = row / g.oh, oy = row % g.oh;
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      float* __restrict out = y.data + ((b * g.oh + oy) * g.ow + ox) * g.c;
      for (int64_t ch = 0; ch < g.c; ++ch) out[ch] = lowest;
      g.ForEachInWindow(oy, ox, [&](int64_t iy, int64_t ix) {
        const float* __restrict in = x.data + ((b * g.ih + iy) * g.iw + ix) * g.c;
        for (int64_t ch = 0; ch < g.c; ++ch) {
          const float v = in[ch], top = out[ch];
          out[ch] = v > top ? v : top;
        }
      });
    }
  }
  return env.Undefined();
}

// maxPoolGrad(dy, x, dx, pool): dy goes to the first maximum of each window.
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dy = GetArray<float>(info, 0, "dy");
  auto x = GetArray<float>(info, 1, "x");
  auto dx = GetArray<float>(info, 2, "dx");
  PoolGeometry g = GetPool(info, 3);
  CheckSize(env, x, g.InSize(), "x");
  CheckSize(env, dx, g.InSize(), "dx");
  CheckSize(env, dy, g.OutSize(), "dy");
  const float lowest = -std::numeric_limits<float>::infinity();
  ThreadRows<float> bestRows(g.c, 0.f);
  ThreadRows<int32_t> atRows(g.c, 0);
  ThreadRows<int64_t> offsetRows(g.fh * g.fw, 0);
  // Threads own whole images, so the adds of overlapping windows never race. Per channel, the winner is kept as
  // its index in the window and picked by selects, not branches, so the channel loops vectorise; every window
  // position then adds dy or +0 (which leaves any sum unchanged), in the same order as a scatter would.
#pragma omp parallel if (g.InSize() > kParallelGrain)
  {
    float* __restrict bestp = bestRows.Row();
    int32_t* __restrict atp = atRows.Row();
    int64_t* offsets = offsetRows.Row();
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.n; ++b) {
      float* dxb = dx.data + b * g.ih * g.iw * g.c;
      const float* xb = x.data + b * g.ih * g.iw * g.c;
      for (int64_t i = 0; i < g.ih * g.iw * g.c; ++i) dxb[i] = 0.f;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          for (int64_t ch = 0; ch < g.c; ++ch) { bestp[ch] = lowest; atp[ch] = -1; }
          int32_t k = 0;
          g.ForEachInWindow(oy, ox, [&](int64_t iy, int64_t ix) {
            offsets[k] = (iy * g.iw + ix) * g.c;
            const float* __restrict in = xb + offsets[k];
            for (int64_t ch = 0; ch < g.c; ++ch) {
              const float v = in[ch], top = bestp[ch];
              const int32_t greater = -static_cast<int32_t>(v > top);  // all ones or zero: a mask, not a branch
              bestp[ch] = v > top ? v : top;
              atp[ch] = (k & greater) | (atp[ch] & ~greater);
            }
            ++k;
          });
          const float* d = dy.data + ((b * g.oh + oy) * g.ow + ox) * g.c;
          for (int32_t w = 0; w < k; ++w) {
            float* __restrict out = dxb + offsets[w];
            for (int64_t ch = 0; ch < g.c; ++ch) {
              const float dv = d[ch];
              out[ch] += atp[ch] == w ? dv : 0.f;
            }
          }
        }
    }
  }
  return env.Undefined();
}

}  // namespace mnist
