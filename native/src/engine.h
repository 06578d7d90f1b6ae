// The one oneDNN engine and stream of the addon (CPU, OpenMP threading inside oneDNN).
#pragma once
#include <dnnl.hpp>

namespace mnist {
dnnl::engine& Engine();
dnnl::stream& Stream();
}  // namespace mnist
