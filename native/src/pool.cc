// Max pooling and its gradient on NHWC, as plain loops vectorised over channels and split over threads.
// Ties and NaN follow tfjs-cpu: the first strictly greater value wins, NaN never does.
#include <limits>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace mnist {
namespace {
// [N, inH, inW, C, outH, outW, fH, fW, strideH, strideW, padTop, padLeft]
struct PoolGeometry {
  int64_t n, ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl;
};
PoolGeometry GetPool(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  auto p = GetInts(info, i, "pool params");
  ONEDNN_CHECK(env, p.size() == 12, RangeError, "Expected 12 pool params but found " + std::to_string(p.size()));
  PoolGeometry g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]};
  ONEDNN_CHECK(env, g.fh > 0 && g.fw > 0 && g.sh > 0 && g.sw > 0, RangeError, "Expected positive pool size and strides");
  return g;
}
}  // namespace

// maxPool(x, y, params[12])
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "x");
  auto y = GetArray<float>(info, 1, "output");
  PoolGeometry g = GetPool(info, 2);
  CheckSize(env, x, g.n * g.ih * g.iw * g.c, "x");
  CheckSize(env, y, g.n * g.oh * g.ow * g.c, "output");
  const float lowest = -std::numeric_limits<float>::infinity();
#pragma omp parallel for if (g.n * g.oh * g.ow * g.c > kParallelGrain) schedule(static)
  for (int64_t row = 0; row < g.n * g.oh; ++row) {
    int64_t b = row / g.oh, oy = row % g.oh;
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      float* __restrict out = y.data + ((b * g.oh + oy) * g.ow + ox) * g.c;
      for (int64_t ch = 0; ch < g.c; ++ch) out[ch] = lowest;
      for (int64_t fy = 0; fy < g.fh; ++fy) {
        int64_t iy = oy * g.sh - g.pt + fy;
        if (iy < 0 || iy >= g.ih) continue;
        for (int64_t fx = 0; fx < g.fw; ++fx) {
          int64_t ix = ox * g.sw - g.pl + fx;
          if (ix < 0 || ix >= g.iw) continue;
          const float* __restrict in = x.data + ((b * g.ih + iy) * g.iw + ix) * g.c;
          for (int64_t ch = 0; ch < g.c; ++ch) {
            const float v = in[ch], top = out[ch];
            out[ch] = v > top ? v : top;
          }
        }
      }
    }
  }
  return env.Undefined();
}

// maxPoolGrad(dy, x, dx, params[12]): dy goes to the first maximum of each window.
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dy = GetArray<float>(info, 0, "dy");
  auto x = GetArray<float>(info, 1, "x");
  auto dx = GetArray<float>(info, 2, "dx");
  PoolGeometry g = GetPool(info, 3);
  CheckSize(env, x, g.n * g.ih * g.iw * g.c, "x");
  CheckSize(env, dx, g.n * g.ih * g.iw * g.c, "dx");
  CheckSize(env, dy, g.n * g.oh * g.ow * g.c, "dy");
  const float lowest = -std::numeric_limits<float>::infinity();
  const int64_t window = g.fh * g.fw;
  // Threads own whole images, so the adds of overlapping windows never race. Per channel, the winner is kept as
  // its index in the window and picked by selects, not branches, so the channel loops vectorise; every window
  // position then adds dy or +0 (which leaves any sum unchanged), in the same order as a scatter would.
#pragma omp parallel if (g.n * g.ih * g.iw * g.c > kParallelGrain)
  {
    std::vector<float> best(g.c);
    std::vector<int32_t> at(g.c);
    std::vector<int64_t> offsets(window);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.n; ++b) {
      float* dxb = dx.data + b * g.ih * g.iw * g.c;
      const float* xb = x.data + b * g.ih * g.iw * g.c;
      for (int64_t i = 0; i < g.ih * g.iw * g.c; ++i) dxb[i] = 0.f;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          float* __restrict bestp = best.data();
          int32_t* __restrict atp = at.data();
          for (int64_t ch = 0; ch < g.c; ++ch) { bestp[ch] = lowest; atp[ch] = -1; }
          int32_t k = 0;
          for (int64_t fy = 0; fy < g.fh; ++fy) {
            int64_t iy = oy * g.sh - g.pt + fy;
            if (iy < 0 || iy >= g.ih) continue;
            for (int64_t fx = 0; fx < g.fw; ++fx) {
              int64_t ix = ox * g.sw - g.pl + fx;
              if (ix < 0 || ix >= g.iw) continue;
              offsets[k] = (iy * g.iw + ix) * g.c;
              const float* __restrict in = xb + offsets[k];
              for (int64_t ch = 0; ch < g.c; ++ch) {
                const float v = in[ch], top = bestp[ch];
                const int32_t greater = -static_cast<int32_t>(v > top);  // all ones or zero: a mask, not a branch
                bestp[ch] = v > top ? v : top;
                atp[ch] = (k & greater) | (atp[ch] & ~greater);
              }
              ++k;
            }
          }
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
