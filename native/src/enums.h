// The op codes that cross N-API as integers, each defined here once. addon.cc exports them as `enums`
// ({ activation: { linear: 0, … }, binaryOp: { Add: 0, … }, … }); lib/backend/native_binding.ts checks at load
// that every name it uses has a code, and the TypeScript side takes its codes from there.
// Binary, unary and reduce ops are named by their tfjs kernel; activations by tfjs's fused activation names.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "common.h"

// X(constant, "name") per entry, in code order from 0.
#define MNIST_ACTIVATIONS(X) \
  X(kLinear, "linear") X(kRelu, "relu") X(kRelu6, "relu6") X(kElu, "elu") X(kLeakyRelu, "leakyrelu") X(kSigmoid, "sigmoid")

#define MNIST_BINARY_OPS(X)                                                                                      \
  X(kAdd, "Add") X(kSub, "Sub") X(kMul, "Multiply") X(kDiv, "RealDiv") X(kMaximum, "Maximum")                    \
  X(kMinimum, "Minimum") X(kPow, "Pow") X(kSquaredDifference, "SquaredDifference") X(kEqual, "Equal")             \
  X(kNotEqual, "NotEqual") X(kGreater, "Greater") X(kGreaterEqual, "GreaterEqual") X(kLess, "Less")              \
  X(kLessEqual, "LessEqual") X(kLogicalAnd, "LogicalAnd") X(kLogicalOr, "LogicalOr") X(kPrelu, "Prelu")

#define MNIST_UNARY_OPS(X)                                                                                       \
  X(kRelu, "Relu") X(kStep, "Step") X(kSquare, "Square") X(kSqrt, "Sqrt") X(kRsqrt, "Rsqrt") X(kNeg, "Neg")      \
  X(kLog, "Log") X(kExp, "Exp") X(kFloor, "Floor") X(kAbs, "Abs") X(kClip, "ClipByValue") X(kSigmoid, "Sigmoid") \
  X(kRelu6, "Relu6") X(kReciprocal, "Reciprocal") X(kLeakyRelu, "LeakyRelu") X(kElu, "Elu") X(kCeil, "Ceil")     \
  X(kTanh, "Tanh") X(kLogicalNot, "LogicalNot")

#define MNIST_REDUCE_OPS(X)                                                                                      \
  X(kSum, "Sum") X(kMean, "Mean") X(kMax, "Max") X(kMin, "Min") X(kProd, "Prod") X(kArgMax, "ArgMax")            \
  X(kArgMin, "ArgMin") X(kAny, "Any") X(kAll, "All")

// The number format a convolution computes in: float32, or bfloat16 inputs and weights with float32 accumulation and
// outputs (Keras's mixed_bfloat16 policy for a conv).
#define MNIST_CONV_PRECISIONS(X) X(kFloat32, "float32") X(kBfloat16, "bfloat16")

#define MNIST_ENUM_CONSTANT(constant, name) constant,

namespace mnist {
namespace activation {
enum Code { MNIST_ACTIVATIONS(MNIST_ENUM_CONSTANT) kCount };
}
namespace binary_op {
enum Code { MNIST_BINARY_OPS(MNIST_ENUM_CONSTANT) kCount };
}
namespace unary_op {
enum Code { MNIST_UNARY_OPS(MNIST_ENUM_CONSTANT) kCount };
}
namespace reduce_op {
enum Code { MNIST_REDUCE_OPS(MNIST_ENUM_CONSTANT) kCount };
}
namespace conv_precision {
enum Code { MNIST_CONV_PRECISIONS(MNIST_ENUM_CONSTANT) kCount };
}

// The code argument i of one of the enums above (`what` names it in errors), checked to be in range.
template <typename Code>
Code GetCode(const Napi::CallbackInfo& info, size_t i, const char* what, Code count) {
  int64_t v = GetInt(info, i, what);
  ONEDNN_CHECK(info.Env(), v >= 0 && v < count, RangeError,
               std::string("Expected ") + what + " 0.." + std::to_string(count - 1) + " but found " + std::to_string(v));
  return static_cast<Code>(v);
}

}  // namespace mnist
