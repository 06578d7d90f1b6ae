// Every function the addon exports; addon.cc holds the one registration list.
#pragma once
#include <napi.h>

namespace mnist {
Napi::Value Conv2dForward(const Napi::CallbackInfo& info);
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info);
Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value MaxPool(const Napi::CallbackInfo& info);
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Select(const Napi::CallbackInfo& info);
Napi::Value ReluGrad(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value Softmax(const Napi::CallbackInfo& info);
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info);
Napi::Value SoftmaxCrossEntropyGrad(const Napi::CallbackInfo& info);
Napi::Value BatchNorm(const Napi::CallbackInfo& info);
Napi::Value BatchNormGrad(const Napi::CallbackInfo& info);
Napi::Value Cast(const Napi::CallbackInfo& info);
Napi::Value Transpose(const Napi::CallbackInfo& info);
Napi::Value Tile(const Napi::CallbackInfo& info);
Napi::Value Slice(const Napi::CallbackInfo& info);
Napi::Value Fill(const Napi::CallbackInfo& info);
Napi::Value Concat(const Napi::CallbackInfo& info);
Napi::Value KerasRmspropUpdate(const Napi::CallbackInfo& info);
Napi::Value KerasAdamUpdate(const Napi::CallbackInfo& info);
}  // namespace mnist
