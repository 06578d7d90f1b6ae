// Our own kernels' hot loops are built once per instruction set (baseline x86-64-v2, AVX2, AVX-512; simd_builds.inc)
// and the widest that oneDNN itself would use runs, so ONEDNN_MAX_CPU_ISA caps our kernels as it caps oneDNN's.
#pragma once
#include <dnnl.hpp>

namespace mnist {

enum class Simd { kBaseline, kAvx2, kAvx512 };

inline Simd EffectiveSimd() {
  const int isa = static_cast<int>(dnnl::get_effective_cpu_isa());
  if ((isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core) return Simd::kAvx512;
  if ((isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2) return Simd::kAvx2;
  return Simd::kBaseline;
}

}  // namespace mnist

// The function `name` of a row file (simd_builds.inc) built for the effective instruction set.
#define MNIST_ROWS_FOR_SIMD(name) \
  (::mnist::EffectiveSimd() == ::mnist::Simd::kAvx512 ? avx512::name \
   : ::mnist::EffectiveSimd() == ::mnist::Simd::kAvx2 ? avx2::name  \
                                                      : baseline::name)

