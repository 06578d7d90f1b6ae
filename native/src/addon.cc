// The addon's one registration list: info, setThreads, setMallocMmapThreshold, alignmentOffset, then kernels.h's
// kernels. Every export runs inside Guarded, so oneDNN and C++ errors reach JS as exceptions instead of taking the
// process down.
#include <malloc.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <dnnl.hpp>
#include <exception>
#include <mutex>

#include "common.h"
#include "engine.h"
#include "enums.h"
#include "kernels.h"

namespace mnist {

// Deliberately never destroyed: tearing oneDNN down during process exit (after Node and OpenMP
// have started their own teardown) crashed with free(): invalid pointer.
dnnl::engine& Engine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& Stream() {
  static dnnl::stream* stream = new dnnl::stream(Engine());
  return *stream;
}

namespace {

// Asynchronous signals are held back while native code runs: a SIGPROF from V8's sampling profiler
// (node --cpu-prof) landing inside oneDNN's JIT gemm corrupted the heap (reproduced with bench loops).
// The signals are delivered as soon as the call returns; fault signals stay unblocked.
class AsyncSignalsBlocked {
 public:
  AsyncSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) sigdelset(&all, s);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~AsyncSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
 private:
  sigset_t saved_;
};

// Primitive caches and their bound memories are shared by every worker_thread that loads the addon.
std::mutex& CallMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  AsyncSignalsBlocked blocked;
  std::lock_guard<std::mutex> lock(CallMutex());
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    ONEDNN_THROW(info.Env(), Error, std::string("oneDNN error (status ") + std::to_string(e.status) + "): " + e.what());
  } catch (const std::bad_alloc&) {
    ONEDNN_THROW(info.Env(), RangeError, "Out of memory in the oneDNN addon");
  } catch (const std::exception& e) {
    ONEDNN_THROW(info.Env(), Error, std::string("Native error in the oneDNN addon: ") + e.what());
  } catch (...) {
    ONEDNN_THROW(info.Env(), Error, "Native error in the oneDNN addon: an exception of unknown type");
  }
}

// One enum of enums.h as a JS object of name -> code.
struct EnumEntry {
  const char* name;
  int code;
};
Napi::Object EnumObject(Napi::Env env, std::initializer_list<EnumEntry> entries) {
  Napi::Object o = Napi::Object::New(env);
  for (const EnumEntry& e : entries) o.Set(e.name, e.code);
  o.Freeze();
  return o;
}

#define MNIST_ENUM_ENTRY(constant, name) {name, constant},
#define MNIST_ENUM_OBJECT(ns, LIST)                   \
  [&] {                                               \
    using namespace ns; /* NOLINT */                  \
    return EnumObject(env, {LIST(MNIST_ENUM_ENTRY)}); \
  }()

Napi::Object Enums(Napi::Env env) {
  Napi::Object enums = Napi::Object::New(env);
  enums.Set("activation", MNIST_ENUM_OBJECT(activation, MNIST_ACTIVATIONS));
  enums.Set("binaryOp", MNIST_ENUM_OBJECT(binary_op, MNIST_BINARY_OPS));
  enums.Set("unaryOp", MNIST_ENUM_OBJECT(unary_op, MNIST_UNARY_OPS));
  enums.Set("reduceOp", MNIST_ENUM_OBJECT(reduce_op, MNIST_REDUCE_OPS));
  enums.Set("convPrecision", MNIST_ENUM_OBJECT(conv_precision, MNIST_CONV_PRECISIONS));
  enums.Freeze();
  return enums;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dnnl_version_t* v = dnnl_version();
  Napi::Object o = Napi::Object::New(env);
  o.Set("onednnVersion", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  o.Set("isa", static_cast<int>(dnnl::get_effective_cpu_isa()));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int64_t n = GetInt(info, 0, "threads");
  ONEDNN_CHECK(info.Env(), n >= 1 && n <= 1024, RangeError, "Expected 1..1024 threads but found " + std::to_string(n));
  omp_set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// Fixes glibc's mmap threshold (default: it rises to the largest array freed, up to 32 MiB). Once risen,
// freed tensor arrays of a few MiB stay in the heap and resident after their phase (training, then a
// batch-1000 inference) ends; with a fixed threshold they go back to the system when freed.
Napi::Value SetMallocMmapThreshold(const Napi::CallbackInfo& info) {
  int64_t bytes = GetInt(info, 0, "bytes");
  ONEDNN_CHECK(info.Env(), bytes >= 0 && bytes <= (int64_t{1} << 25), RangeError,
               "Expected a threshold of 0..32 MiB but found " + std::to_string(bytes) + " bytes");
#ifdef __GLIBC__
  return Napi::Boolean::New(info.Env(), mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// The bytes to skip from an ArrayBuffer's start to reach a multiple of `alignment` bytes (a power of two up to 4096).
// The backend's pool lays its views there: vector loads and stores that straddle two cache lines are slower
// (bench/array_alignment.ts measures it on BatchNorm's kernels).
Napi::Value AlignmentOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > 0 && info[0].IsArrayBuffer(), TypeError, "Expected an ArrayBuffer for buffer");
  const int64_t alignment = GetInt(info, 1, "alignment");
  ONEDNN_CHECK(env, alignment > 0 && alignment <= 4096 && (alignment & (alignment - 1)) == 0, RangeError,
               "Expected a power of two up to 4096 for alignment but found " + std::to_string(alignment));
  const auto address = reinterpret_cast<uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data());
  const auto a = static_cast<uintptr_t>(alignment);
  return Napi::Number::New(env, static_cast<double>((a - address % a) % a));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Entry { const char* name; Napi::Value (*fn)(const Napi::CallbackInfo&); };
  const Entry entries[] = {
      {"info", Guarded<Info>},
      {"setThreads", Guarded<SetThreads>},
      {"setMallocMmapThreshold", Guarded<SetMallocMmapThreshold>},
      {"alignmentOffset", Guarded<AlignmentOffset>},
#define MNIST_KERNEL_ENTRY(function, name) {name, Guarded<function>},
      MNIST_KERNEL_FUNCTIONS(MNIST_KERNEL_ENTRY)
#undef MNIST_KERNEL_ENTRY
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  exports.Set("enums", Enums(env));
  return exports;
}

}  // namespace mnist

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return mnist::Init(env, exports); }

NODE_API_MODULE(mnist_onednn, InitAddon)
