// Whole-dataset buffers: reading the IDX files, scaling their pixels (uint8 → float32 × factor), mapping and
// hashing the cache of scaled pixels — off the JS thread where they take long, so loading can verify MD5s
// meanwhile. On this kind of VM the first touch of fresh memory costs about 3 ns a byte (2 with MAP_POPULATE,
// used below) and of a page-cache file mapping about 0.7: hence the cache (lib/pixel_cache.ts).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

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

// Fresh populated memory, or nullptr with errno set. Zero bytes map one page (mmap rejects length 0).
void* MapPopulated(size_t bytes) {
  void* address = mmap(nullptr, bytes == 0 ? 1 : bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return address == MAP_FAILED ? nullptr : address;
}

// An ArrayBuffer over a mapping from MapPopulated, unmapped when the garbage collector frees it.
Napi::ArrayBuffer MappedBuffer(Napi::Env env, void* address, size_t bytes) {
  size_t mapped = bytes == 0 ? 1 : bytes;
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(mapped));
  return Napi::ArrayBuffer::New(env, address, bytes, Unmap, new Mapping{address, mapped});
}

class ReadFileWorker : public Napi::AsyncWorker {
 public:
  ReadFileWorker(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail("open");
    struct stat st;
    if (fstat(fd, &st) != 0) return Fail("stat", fd);
    if (!S_ISREG(st.st_mode)) {
      close(fd);
      return SetError("Expected a regular file at " + path_ + " but it is not one");
    }
    bytes_ = static_cast<size_t>(st.st_size);
    data_ = static_cast<uint8_t*>(MapPopulated(bytes_));
    if (data_ == nullptr) return Fail("map memory to read", fd);
    size_t done = 0;
    while (done < bytes_) {
      ssize_t n = read(fd, data_ + done, bytes_ - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // A file that shrank while read is reported as a read error, not returned half-filled.
        if (n == 0) errno = EIO;
        Fail("read", fd);
        munmap(data_, bytes_ == 0 ? 1 : bytes_);
        data_ = nullptr;
        return;
      }
      done += static_cast<size_t>(n);
    }
    close(fd);
  }

  void OnOK() override {
    Napi::Env env = Env();
    deferred_.Resolve(Napi::Uint8Array::New(env, bytes_, MappedBuffer(env, data_, bytes_), 0));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  void Fail(const char* what, int fd = -1) {
    std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    SetError(std::string(what) + " " + path_ + ": " + reason);
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  uint8_t* data_ = nullptr;
  size_t bytes_ = 0;
};

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
    out_ = static_cast<float*>(MapPopulated(bytes_));
    if (out_ == nullptr) {
      SetError("Expected to map " + std::to_string(bytes_) + " bytes for scaled pixels but mmap failed: " + std::strerror(errno));
      return;
    }
    for (size_t i = 0; i < count_; i++) out_[i] = table_[in_[i]];
  }

  void OnOK() override {
    Napi::Env env = Env();
    deferred_.Resolve(Napi::Float32Array::New(env, count_, MappedBuffer(env, out_, bytes_), 0));
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

class HashWorker : public Napi::AsyncWorker {
 public:
  explicit HashWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

  void Add(Napi::TypedArray part) {
    parts_.push_back({static_cast<const uint8_t*>(part.ArrayBuffer().Data()) + part.ByteOffset(), part.ByteLength()});
    refs_.push_back(Napi::Persistent(part.As<Napi::Object>()));  // keeps the bytes alive while Execute reads them
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    XXH3_state_t* state = XXH3_createState();
    if (state == nullptr) return SetError("Out of memory for an XXH3 state");
    XXH3_64bits_reset(state);
    for (const auto& [data, bytes] : parts_) XXH3_64bits_update(state, data, bytes);
    hash_ = XXH3_64bits_digest(state);
    XXH3_freeState(state);
  }

  void OnOK() override {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash_));
    deferred_.Resolve(Napi::String::New(Env(), hex));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<std::pair<const uint8_t*, size_t>> parts_;
  std::vector<Napi::ObjectReference> refs_;
  XXH64_hash_t hash_ = 0;
};

}  // namespace

// xxh3(parts: TypedArray[]): Promise<string> — XXH3-64 of the parts' bytes, one after another, as 16 hex digits.
Napi::Value Xxh3(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > 0 && info[0].IsArray(), TypeError, "Expected an array of TypedArrays to hash");
  Napi::Array parts = info[0].As<Napi::Array>();
  auto* worker = new HashWorker(env);
  for (uint32_t i = 0; i < parts.Length(); i++) {
    Napi::Value part = parts.Get(i);
    if (!part.IsTypedArray()) {
      delete worker;
      ONEDNN_THROW(env, TypeError, "Expected a TypedArray at index " + std::to_string(i) + " of the parts to hash");
    }
    worker->Add(part.As<Napi::TypedArray>());
  }
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// mapFile(path: string): Uint8Array — a private (copy-on-write) mapping of a whole regular file, unmapped
// when collected. Only for files this project replaces by rename, never truncates: a file truncated while
// mapped raises SIGBUS on access.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > 0 && info[0].IsString(), TypeError, "Expected a file path string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ONEDNN_CHECK(env, fd >= 0, Error, "open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    close(fd);
    ONEDNN_THROW(env, Error, "Expected a non-empty regular file at " + path);
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int error = errno;
  close(fd);  // the mapping keeps the file
  ONEDNN_CHECK(env, address != MAP_FAILED, Error, "mmap " + path + ": " + std::strerror(error));
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, address, bytes, [](Napi::Env, void*, Mapping* m) {
    munmap(m->address, m->bytes);
    delete m;
  }, new Mapping{address, bytes});
  return Napi::Uint8Array::New(env, bytes, buffer, 0);
}

// readFile(path: string): Promise<Uint8Array>
Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > 0 && info[0].IsString(), TypeError, "Expected a file path string");
  auto* worker = new ReadFileWorker(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

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
