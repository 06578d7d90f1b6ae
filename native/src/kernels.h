// The kernel functions the addon exports, listed once: addon.cc declares and registers each from this list, and
// lib/backend/native_binding.ts's NATIVE_FUNCTION_NAMES names the same functions (checked when the addon loads).
#pragma once
#include <napi.h>

// X(Function, "jsName") per kernel, in export order.
#define MNIST_KERNEL_FUNCTIONS(X)                                                                                      \
  X(Conv2dForward, "conv2dForward") X(Conv2dBackwardData, "conv2dBackwardData")                                        \
  X(Conv2dBackwardFilter, "conv2dBackwardFilter") X(MatMul, "matMul") X(MaxPool, "maxPool")                            \
  X(MaxPoolGrad, "maxPoolGrad") X(Binary, "binary") X(Unary, "unary") X(Select, "select") X(ReluGrad, "reluGrad")      \
  X(Reduce, "reduce") X(Softmax, "softmax") X(SoftmaxCrossEntropy, "softmaxCrossEntropy")                             \
  X(SoftmaxCrossEntropyGrad, "softmaxCrossEntropyGrad") X(BatchNorm, "batchNorm") X(BatchNormGrad, "batchNormGrad")    \
  X(Cast, "cast") X(Transpose, "transpose") X(Tile, "tile") X(Slice, "slice") X(Fill, "fill") X(Concat, "concat")      \
  X(KerasRmspropUpdate, "kerasRmspropUpdate") X(KerasAdamUpdate, "kerasAdamUpdate")                                    \
  X(BatchNormReluTrain, "batchNormReluTrain") X(BatchNormReluGrad, "batchNormReluGrad") X(Dropout, "dropout")

#define MNIST_DECLARE_KERNEL(function, name) Napi::Value function(const Napi::CallbackInfo& info);

namespace mnist {
MNIST_KERNEL_FUNCTIONS(MNIST_DECLARE_KERNEL)
}  // namespace mnist
