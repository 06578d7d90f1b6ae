// (Batched) matrix product over oneDNN's sgemm, with optional bias and activation fused into one pass.
#include "common.h"
#include "engine.h"
#include "activation.h"
#include "enums.h"
#include "kernels.h"

namespace mnist {

// matMul(a, b, out, matMul, bias|null, activation, alpha); matMul is lib/backend's MatMulGeometry, read by field name.
// a is [batchA, m, k] (or [batchA, k, m] transposed), b is [batchB, k, n] (or [batchB, n, k]); a batch of 1 broadcasts.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto a = GetArray<float>(info, 0, "a");
  auto b = GetArray<float>(info, 1, "b");
  auto c = GetArray<float>(info, 2, "output");
  Fields g(info, 3, "matMul");
  int64_t ba = g.Int("batchA", 1), bb = g.Int("batchB", 1);
  int64_t m = g.Int("m", 0), n = g.Int("n", 0), k = g.Int("k", 0);
  bool ta = g.Bool("transposeA"), tb = g.Bool("transposeB");
  auto bias = GetArray<float>(info, 4, "bias", true);
  auto act = GetCode(info, 5, "activation code", activation::kCount);
  float alpha = static_cast<float>(GetDouble(info, 6, "alpha"));
  ONEDNN_CHECK(env, ba == bb || ba == 1 || bb == 1, RangeError,
               "Expected equal batch sizes or a batch of 1 but found " + std::to_string(ba) + " and " + std::to_string(bb));
  int64_t batch = ba > bb ? ba : bb;
  CheckSize(env, a, ba * m * k, "a");
  CheckSize(env, b, bb * k * n, "b");
  CheckSize(env, c, batch * m * n, "output");
  if (bias.data) CheckSize(env, bias, n, "bias");
  if (m == 0 || n == 0) return env.Undefined();
  for (int64_t i = 0; i < batch; ++i) {
    const float* pa = a.data + (ba == 1 ? 0 : i) * m * k;
    const float* pb = b.data + (bb == 1 ? 0 : i) * k * n;
    float* pc = c.data + i * m * n;
    if (k == 0) {
      for (int64_t j = 0; j < m * n; ++j) pc[j] = 0.f;
      continue;
    }
    dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, pa, ta ? m : k, pb, tb ? k : n, 0.f, pc, n);
    ONEDNN_CHECK(env, st == dnnl_success, Error, "oneDNN sgemm failed with status " + std::to_string(st));
  }
  if (bias.data || act != activation::kLinear) BiasActivation(c.data, bias.data, batch * m, n, act, alpha);
  return env.Undefined();
}

}  // namespace mnist
