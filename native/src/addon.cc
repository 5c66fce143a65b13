// The N-API surface (src/runtime/native/binding.ts): init, createSession, run (async), releaseSession.
// Plain node_api.h, no node-addon-api: N-API symbols stay undefined in the .node and bind to the running node.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gpu_runtime.h"
#include "native_error.h"
#include "plan.h"
#include "session.h"

namespace ofs {

namespace {

// Distinguishes our externals from any other napi external passed in by mistake.
const napi_type_tag kSessionTag = {0x6f667365727665ULL, 0x6e61746976653031ULL};

// The external owns a box; releaseSession empties it, GC deletes it. A run in flight holds its own
// reference, so the GPU memory goes when the last of the two lets go.
struct SessionBox {
  std::shared_ptr<Session> session;
};

// Thrown inside callbacks and turned into a JS exception at the boundary.
struct JsTypeError {
  std::string message;
};

#define NAPI_OK(call)                                                   \
  do {                                                                  \
    napi_status napi_status_ = (call);                                  \
    if (napi_status_ != napi_ok) throw NativeError("N-API: " #call " failed"); \
  } while (0)

template <typename F>
napi_value guarded(napi_env env, F body) {
  try {
    return body();
  } catch (const JsTypeError& e) {
    napi_throw_type_error(env, nullptr, e.message.c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  } catch (...) {
    napi_throw_error(env, nullptr, "ofserve_native: unknown C++ exception");
  }
  return nullptr;
}

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t expected) {
  std::vector<napi_value> argv(expected);
  size_t argc = expected;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr));
  if (argc < expected) throw JsTypeError{"expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc)};
  return argv;
}

std::string stringArg(napi_env env, napi_value v, const char* name) {
  napi_valuetype type;
  NAPI_OK(napi_typeof(env, v, &type));
  if (type != napi_string) throw JsTypeError{std::string(name) + " must be a string"};
  size_t length = 0;
  NAPI_OK(napi_get_value_string_utf8(env, v, nullptr, 0, &length));
  std::string out(length, '\0');
  NAPI_OK(napi_get_value_string_utf8(env, v, out.data(), length + 1, &length));
  return out;
}

int intArg(napi_env env, napi_value v, const char* name, int lo, int hi) {
  napi_valuetype type;
  NAPI_OK(napi_typeof(env, v, &type));
  if (type != napi_number) throw JsTypeError{std::string(name) + " must be a number"};
  double d = 0;
  NAPI_OK(napi_get_value_double(env, v, &d));
  if (d != static_cast<double>(static_cast<long long>(d)) || d < lo || d > hi) {
    throw JsTypeError{std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"};
  }
  return static_cast<int>(d);
}

// Returns the data pointer and element count of a Float32Array argument.
const float* float32Arg(napi_env env, napi_value v, const char* name, size_t* length) {
  bool isTyped = false;
  NAPI_OK(napi_is_typedarray(env, v, &isTyped));
  if (!isTyped) throw JsTypeError{std::string(name) + " must be a Float32Array"};
  napi_typedarray_type type;
  void* data = nullptr;
  NAPI_OK(napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr));
  if (type != napi_float32_array) throw JsTypeError{std::string(name) + " must be a Float32Array"};
  return static_cast<const float*>(data);
}

SessionBox* sessionArg(napi_env env, napi_value v) {
  napi_valuetype type;
  NAPI_OK(napi_typeof(env, v, &type));
  bool tagged = false;
  if (type == napi_external) NAPI_OK(napi_check_object_type_tag(env, v, &kSessionTag, &tagged));
  if (!tagged) throw JsTypeError{"session must be a handle returned by createSession"};
  void* data = nullptr;
  NAPI_OK(napi_get_value_external(env, v, &data));
  return static_cast<SessionBox*>(data);
}

napi_value makeString(napi_env env, const std::string& s) {
  napi_value v;
  NAPI_OK(napi_create_string_utf8(env, s.c_str(), s.size(), &v));
  return v;
}

napi_value makeNumber(napi_env env, double d) {
  napi_value v;
  NAPI_OK(napi_create_double(env, d, &v));
  return v;
}

void setProp(napi_env env, napi_value obj, const char* key, napi_value value) {
  NAPI_OK(napi_set_named_property(env, obj, key, value));
}

// init(): devices and library versions; every reason it is unusable in one message.
napi_value Init(napi_env env, napi_callback_info) {
  return guarded(env, [&]() -> napi_value {
    std::string problems;
    std::vector<DeviceInfo> devices;
    try {
      devices = listDevices();
    } catch (const NativeError& e) {
      problems = e.what();
    }
    const GpuLibraries* libs = nullptr;
    try {
      libs = &gpuLibraries();
    } catch (const NativeError& e) {
      problems += (problems.empty() ? "" : "; ") + std::string(e.what());
    }
    if (!problems.empty()) throw NativeError(problems);

    napi_value result, list;
    NAPI_OK(napi_create_object(env, &result));
    NAPI_OK(napi_create_array_with_length(env, devices.size(), &list));
    for (size_t i = 0; i < devices.size(); ++i) {
      const DeviceInfo& d = devices[i];
      napi_value o;
      NAPI_OK(napi_create_object(env, &o));
      setProp(env, o, "ordinal", makeNumber(env, d.ordinal));
      setProp(env, o, "name", makeString(env, d.name));
      setProp(env, o, "totalMemoryBytes", makeNumber(env, static_cast<double>(d.totalMemoryBytes)));
      setProp(env, o, "computeCapability", makeString(env, std::to_string(d.major) + "." + std::to_string(d.minor)));
      NAPI_OK(napi_set_element(env, list, static_cast<uint32_t>(i), o));
    }
    setProp(env, result, "devices", list);
    setProp(env, result, "cudnnVersion", makeNumber(env, static_cast<double>(libs->cudnn.cudnnGetVersion())));
    setProp(env, result, "cublasVersion", makeNumber(env, libs->cublas.version()));
    return result;
  });
}

void finalizeSession(napi_env, void* data, void*) { delete static_cast<SessionBox*>(data); }

// createSession(planJson, weights, device, maxBatch)
napi_value CreateSession(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 4);
    std::string json = stringArg(env, argv[0], "planJson");
    size_t weightCount = 0;
    const float* weights = float32Arg(env, argv[1], "weights", &weightCount);
    int device = intArg(env, argv[2], "device", 0, 1 << 20);
    int maxBatch = intArg(env, argv[3], "maxBatch", 1, 1 << 20);

    Plan plan = parsePlan(json);
    if (weightCount != plan.weightCount) {
      throw NativeError("createSession: weights has " + std::to_string(weightCount) + " floats, the plan's weightCount is " +
                        std::to_string(plan.weightCount));
    }
    const GpuLibraries& libs = gpuLibraries();
    auto box = std::make_unique<SessionBox>();
    box->session = std::make_shared<Session>(std::move(plan), weights, device, maxBatch, libs, SessionOptions::fromEnvironment());

    napi_value external;
    NAPI_OK(napi_create_external(env, box.get(), finalizeSession, nullptr, &external));
    SessionBox* owned = box.release();
    (void)owned;  // now owned by the external's finalizer
    NAPI_OK(napi_type_tag_object(env, external, &kSessionTag));
    return external;
  });
}

struct RunJob {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  std::shared_ptr<Session> session;
  std::vector<float> input;
  int batch = 0;
  std::vector<float> output;
  std::string error;
};

void executeRun(napi_env, void* data) {
  auto* job = static_cast<RunJob*>(data);
  try {
    job->output = job->session->run(job->input.data(), job->batch);
  } catch (const std::exception& e) {
    job->error = e.what();
  } catch (...) {
    job->error = "run: unknown C++ exception";
  }
  // Drop our reference on the worker: if releaseSession ran meanwhile, the GPU memory goes here rather
  // than stalling the main thread. Session::~Session only touches CUDA, which is thread-agnostic.
  job->session.reset();
}

void rejectWith(napi_env env, napi_deferred deferred, const std::string& message) {
  napi_value msg, err;
  if (napi_create_string_utf8(env, message.c_str(), message.size(), &msg) != napi_ok) return;
  if (napi_create_error(env, nullptr, msg, &err) != napi_ok) return;
  napi_reject_deferred(env, deferred, err);
}

void completeRun(napi_env env, napi_status status, void* data) {
  std::unique_ptr<RunJob> job(static_cast<RunJob*>(data));
  if (status == napi_cancelled) {
    rejectWith(env, job->deferred, "run: cancelled");
  } else if (!job->error.empty()) {
    rejectWith(env, job->deferred, job->error);
  } else {
    napi_value buffer, array;
    void* bytes = nullptr;
    size_t byteLength = job->output.size() * sizeof(float);
    if (napi_create_arraybuffer(env, byteLength, &bytes, &buffer) != napi_ok ||
        napi_create_typedarray(env, napi_float32_array, job->output.size(), buffer, 0, &array) != napi_ok) {
      rejectWith(env, job->deferred, "run: could not allocate the output Float32Array");
    } else {
      if (byteLength > 0) std::memcpy(bytes, job->output.data(), byteLength);
      napi_resolve_deferred(env, job->deferred, array);
    }
  }
  napi_delete_async_work(env, job->work);
}

// run(session, input, batch): Promise<Float32Array>. Every failure rejects, argument errors included.
napi_value Run(napi_env env, napi_callback_info info) {
  napi_value promise = nullptr;
  napi_deferred deferred = nullptr;
  if (napi_create_promise(env, &deferred, &promise) != napi_ok) {
    napi_throw_error(env, nullptr, "N-API: napi_create_promise failed");
    return nullptr;
  }
  try {
    auto argv = args(env, info, 3);
    SessionBox* box = sessionArg(env, argv[0]);
    size_t inputCount = 0;
    const float* input = float32Arg(env, argv[1], "input", &inputCount);
    int batch = intArg(env, argv[2], "batch", 1, 1 << 20);
    if (!box->session) throw NativeError("run: the session was released");
    if (batch > box->session->maxBatch()) {
      throw NativeError("run: batch " + std::to_string(batch) + " exceeds the session's maxBatch " +
                        std::to_string(box->session->maxBatch()));
    }
    size_t expected = box->session->inputElementsPerSample() * static_cast<size_t>(batch);
    if (inputCount != expected) {
      throw NativeError("run: input has " + std::to_string(inputCount) + " floats, batch " + std::to_string(batch) +
                        " needs " + std::to_string(expected));
    }
    auto job = std::make_unique<RunJob>();
    job->deferred = deferred;
    job->session = box->session;
    // Copied now: the caller may reuse its buffer as soon as run() returns.
    job->input.assign(input, input + inputCount);
    job->batch = batch;
    napi_value name = makeString(env, "ofserve_native.run");
    NAPI_OK(napi_create_async_work(env, nullptr, name, executeRun, completeRun, job.get(), &job->work));
    NAPI_OK(napi_queue_async_work(env, job->work));
    job.release();
  } catch (const JsTypeError& e) {
    napi_value msg, err;
    napi_create_string_utf8(env, e.message.c_str(), e.message.size(), &msg);
    napi_create_type_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, deferred, err);
  } catch (const std::exception& e) {
    rejectWith(env, deferred, e.what());
  }
  return promise;
}

// releaseSession(session): idempotent; a run in flight keeps the session alive until it finishes.
napi_value ReleaseSession(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    auto argv = args(env, info, 1);
    SessionBox* box = sessionArg(env, argv[0]);
    box->session.reset();
    napi_value undefined;
    NAPI_OK(napi_get_undefined(env, &undefined));
    return undefined;
  });
}

}  // namespace

}  // namespace ofs

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"init", nullptr, ofs::Init, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"createSession", nullptr, ofs::CreateSession, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"run", nullptr, ofs::Run, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"releaseSession", nullptr, ofs::ReleaseSession, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return nullptr;
  return exports;
}
