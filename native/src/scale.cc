// Whole-dataset pixel scaling (uint8 → float32 × factor) off the JS thread, so loading can verify MD5s
// meanwhile. The output is mapped with MAP_POPULATE: on this kind of VM first-touch page faults dominate
// (about 3 ns a byte), and populating the mapping in one call halves them.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "common.h"
#include "kernels.h"

namespace mnist {
namespace {

struct Mapping {
  void* address;
  size_t bytes;
};

void Unmap(Napi::Env env, void*, Mapping* mapping) {
  munmap(mapping->address, mapping->bytes);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(mapping->bytes));
  delete mapping;
}

class ScaleWorker : public Napi::AsyncWorker {
 public:
  ScaleWorker(Napi::Env env, Napi::Uint8Array input, double factor)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        input_(Napi::Persistent(input)), in_(input.Data()), count_(input.ElementLength()) {
    // The same rounding as JS's `Math.fround(v * factor)`: the product in double, then to float.
    for (int v = 0; v < 256; v++) table_[v] = static_cast<float>(v * factor);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    bytes_ = count_ * sizeof(float);
    void* address = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (address == MAP_FAILED) {
      SetError("Expected to map " + std::to_string(bytes_) + " bytes for scaled pixels but mmap failed: " + std::strerror(errno));
      return;
    }
    out_ = static_cast<float*>(address);
    for (size_t i = 0; i < count_; i++) out_[i] = table_[in_[i]];
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes_));
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, out_, bytes_, Unmap, new Mapping{out_, bytes_});
    deferred_.Resolve(Napi::Float32Array::New(env, count_, buffer, 0));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> input_;  // keeps the pixels alive while Execute reads them
  const uint8_t* in_;
  size_t count_;
  float table_[256];
  float* out_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace

// scaleU8(pixels: Uint8Array, factor: number): Promise<Float32Array>
Napi::Value ScaleU8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<uint8_t> pixels = GetArray<uint8_t>(info, 0, "pixels");
  double factor = GetDouble(info, 1, "factor");
  if (pixels.size == 0) {
    Napi::Promise::Deferred empty = Napi::Promise::Deferred::New(env);
    empty.Resolve(Napi::Float32Array::New(env, 0));
    return empty.Promise();
  }
  auto* worker = new ScaleWorker(env, info[0].As<Napi::Uint8Array>(), factor);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace mnist
