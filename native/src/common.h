// Shared helpers of the addon: argument checking that throws JS errors, never aborts.
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>
#include <vector>

// The one error macro: throws a JS error of the given kind (TypeError, RangeError, Error).
#define ONEDNN_THROW(env, Kind, msg) throw Napi::Kind::New((env), std::string(msg))
#define ONEDNN_CHECK(env, cond, Kind, msg) \
  do { if (!(cond)) ONEDNN_THROW(env, Kind, msg); } while (0)

namespace mnist {

// A typed array argument as pointer + length, honouring byteOffset (views are common in tfjs-cpu).
template <typename T>
struct Span {
  T* data = nullptr;
  size_t size = 0;
};

inline const char* TypeName(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint8_array: return "Uint8Array";
    default: return "another TypedArray";
  }
}

template <typename T> constexpr napi_typedarray_type ArrayTypeOf();
template <> constexpr napi_typedarray_type ArrayTypeOf<float>() { return napi_float32_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<int32_t>() { return napi_int32_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<uint8_t>() { return napi_uint8_array; }

template <typename T>
Span<T> GetArray(const Napi::CallbackInfo& info, size_t i, const char* name, bool optional = false) {
  Napi::Env env = info.Env();
  if (optional && (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined())) return {};
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsTypedArray(), TypeError,
               std::string("Expected a TypedArray for ") + name + " (argument " + std::to_string(i) + ")");
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  ONEDNN_CHECK(env, a.TypedArrayType() == ArrayTypeOf<T>(), TypeError,
               std::string("Expected a ") + TypeName(ArrayTypeOf<T>()) + " for " + name + " but found a " +
                   TypeName(a.TypedArrayType()));
  Span<T> s;
  s.data = reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
  s.size = a.ElementLength();
  return s;
}

// Element type of a typed array argument: 'f' float32, 'i' int32, 'b' uint8/bool.
inline char ArrayKind(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsTypedArray(), TypeError,
               std::string("Expected a TypedArray for ") + name);
  switch (info[i].As<Napi::TypedArray>().TypedArrayType()) {
    case napi_float32_array: return 'f';
    case napi_int32_array: return 'i';
    case napi_uint8_array: return 'b';
    default: ONEDNN_THROW(env, TypeError, std::string("Expected a Float32Array, Int32Array or Uint8Array for ") + name);
  }
}

inline int64_t GetInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsNumber(), TypeError,
               std::string("Expected a number for ") + name);
  double v = info[i].As<Napi::Number>().DoubleValue();
  ONEDNN_CHECK(env, v == static_cast<double>(static_cast<int64_t>(v)), RangeError,
               std::string("Expected an integer for ") + name + " but found " + std::to_string(v));
  return static_cast<int64_t>(v);
}

inline double GetDouble(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsNumber(), TypeError,
               std::string("Expected a number for ") + name);
  return info[i].As<Napi::Number>().DoubleValue();
}

// A shape or parameter list given as a JS array of non-negative integers.
inline std::vector<int64_t> GetInts(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsArray(), TypeError,
               std::string("Expected an array of integers for ") + name);
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a.Get(k);
    ONEDNN_CHECK(env, e.IsNumber(), TypeError, std::string("Expected an array of integers for ") + name);
    double d = e.As<Napi::Number>().DoubleValue();
    ONEDNN_CHECK(env, d >= 0 && d == static_cast<double>(static_cast<int64_t>(d)), RangeError,
                 std::string("Expected non-negative integers in ") + name + " but found " + std::to_string(d));
    v[k] = static_cast<int64_t>(d);
  }
  return v;
}

inline int64_t Product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t d : v) p *= d;
  return p;
}

template <typename T>
void CheckSize(Napi::Env env, const Span<T>& s, int64_t expected, const char* name) {
  ONEDNN_CHECK(env, static_cast<int64_t>(s.size) == expected, RangeError,
               std::string("Expected ") + std::to_string(expected) + " elements in " + name + " but found " +
                   std::to_string(s.size));
}

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 15;

}  // namespace mnist
