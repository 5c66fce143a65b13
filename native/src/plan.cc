#include "plan.h"

#include <climits>

#include "json.h"
#include "native_error.h"

namespace ofs {

namespace {

constexpr long long kMaxDim = INT_MAX;
constexpr long long kMaxWeights = 1LL << 40;

std::string idx(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

template <size_t N>
void readInts(const Json& j, const std::string& path, int (&out)[N], long long lo) {
  const auto& arr = j.asArray(path);
  if (arr.size() != N) throw NativeError("plan: " + path + " must have " + std::to_string(N) + " entries");
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<int>(arr[i].asInt(idx(path, i), lo, kMaxDim));
}

WeightRef readWeightRef(const Json& j, const std::string& path, size_t weightCount) {
  WeightRef w;
  w.offset = static_cast<size_t>(j.at("offset", path).asInt(path + ".offset", 0, kMaxWeights));
  w.length = static_cast<size_t>(j.at("length", path).asInt(path + ".length", 0, kMaxWeights));
  if (w.offset + w.length > weightCount) {
    throw NativeError("plan: " + path + " [" + std::to_string(w.offset) + ", +" + std::to_string(w.length) +
                      ") runs past weightCount " + std::to_string(weightCount));
  }
  return w;
}

StepOp parseOp(const std::string& op, const std::string& path) {
  if (op == "conv") return StepOp::Conv;
  if (op == "maxpool") return StepOp::MaxPool;
  if (op == "avgpool") return StepOp::AvgPool;
  if (op == "globalavgpool") return StepOp::GlobalAvgPool;
  if (op == "add") return StepOp::Add;
  if (op == "relu") return StepOp::Relu;
  if (op == "gemm") return StepOp::Gemm;
  if (op == "softmax") return StepOp::Softmax;
  throw NativeError("plan: " + path + ".op '" + op + "' is not an operation this addon runs");
}

int readTensorId(const Json& step, const char* key, const std::string& path, const Plan& plan) {
  int id = static_cast<int>(step.at(key, path).asInt(path + "." + key, INT_MIN, INT_MAX));
  if (!plan.indexById.count(id)) throw NativeError("plan: " + path + "." + key + " names undeclared tensor " + std::to_string(id));
  return id;
}

[[noreturn]] void shapeError(const Step& s, const std::string& what) { throw NativeError("plan: " + s.label + ": " + what); }

std::string shapeText(const std::vector<int>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

// Window output size as ONNX defines it without ceil_mode; used only to check the compiler's declared shape.
int windowOut(int in, int kernel, int stride, int padBegin, int padEnd, int dilation) {
  return (in + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride + 1;
}

void validateStep(const Plan& plan, const Step& s) {
  auto t = [&](int id) -> const TensorDecl& { return plan.tensor(id); };
  auto need3d = [&](int id, const char* role) {
    if (t(id).shape.size() != 3) shapeError(s, std::string(role) + " must be per-sample [C,H,W], got " + shapeText(t(id).shape));
  };
  if (s.y == s.x || (s.a >= 0 && s.y == s.a) || (s.b >= 0 && s.y == s.b) || (s.residual >= 0 && s.y == s.residual)) {
    shapeError(s, "y aliases an input");
  }
  switch (s.op) {
    case StepOp::Conv: {
      need3d(s.x, "x");
      need3d(s.y, "y");
      const auto& xs = t(s.x).shape;
      const auto& ys = t(s.y).shape;
      int K = s.weightShape[0], Cg = s.weightShape[1], R = s.weightShape[2], S = s.weightShape[3];
      if (s.groups < 1 || xs[0] % s.groups != 0 || K % s.groups != 0) shapeError(s, "groups does not divide channels");
      if (Cg * s.groups != xs[0]) shapeError(s, "weight C/groups " + std::to_string(Cg) + " does not match x channels " + std::to_string(xs[0]));
      if (K != ys[0]) shapeError(s, "weight K " + std::to_string(K) + " does not match y channels " + std::to_string(ys[0]));
      if (s.weight.length != static_cast<size_t>(K) * Cg * R * S) shapeError(s, "weight.length does not match weight.shape");
      if (s.bias.length != static_cast<size_t>(K)) shapeError(s, "bias.length must be K = " + std::to_string(K));
      if (s.pads[0] != s.pads[2] || s.pads[1] != s.pads[3]) {
        shapeError(s, "asymmetric pads [" + std::to_string(s.pads[0]) + "," + std::to_string(s.pads[1]) + "," +
                          std::to_string(s.pads[2]) + "," + std::to_string(s.pads[3]) + "] are not supported by cuDNN's 2-D convolution");
      }
      int oh = windowOut(xs[1], R, s.strides[0], s.pads[0], s.pads[2], s.dilations[0]);
      int ow = windowOut(xs[2], S, s.strides[1], s.pads[1], s.pads[3], s.dilations[1]);
      if (oh != ys[1] || ow != ys[2]) shapeError(s, "y " + shapeText(ys) + " does not match the convolution's output [" + std::to_string(K) + "," + std::to_string(oh) + "," + std::to_string(ow) + "]");
      if (s.residual >= 0 && t(s.residual).perSample != t(s.y).perSample) shapeError(s, "residual size differs from y");
      break;
    }
    case StepOp::MaxPool:
    case StepOp::AvgPool: {
      need3d(s.x, "x");
      need3d(s.y, "y");
      const auto& xs = t(s.x).shape;
      const auto& ys = t(s.y).shape;
      if (xs[0] != ys[0]) shapeError(s, "pooling changes the channel count");
      if (s.pads[0] >= s.kernel[0] || s.pads[1] >= s.kernel[1] || s.pads[2] >= s.kernel[0] || s.pads[3] >= s.kernel[1]) {
        shapeError(s, "pads must be smaller than the kernel");
      }
      int oh = windowOut(xs[1], s.kernel[0], s.strides[0], s.pads[0], s.pads[2], 1);
      int ow = windowOut(xs[2], s.kernel[1], s.strides[1], s.pads[1], s.pads[3], 1);
      // ceil_mode may add one window per axis; the kernels clip windows to the input, so both are accepted.
      if (ys[1] < oh || ys[1] > oh + 1 || ys[2] < ow || ys[2] > ow + 1) shapeError(s, "y " + shapeText(ys) + " does not match the window arithmetic");
      break;
    }
    case StepOp::GlobalAvgPool: {
      need3d(s.x, "x");
      const auto& ys = t(s.y).shape;
      size_t c = static_cast<size_t>(t(s.x).shape[0]);
      if (t(s.y).perSample != c || ys.empty() || ys[0] != t(s.x).shape[0]) shapeError(s, "y must be [C] or [C,1,1]");
      break;
    }
    case StepOp::Add:
      if (t(s.a).perSample != t(s.y).perSample || t(s.b).perSample != t(s.y).perSample) shapeError(s, "a, b and y must have the same size");
      break;
    case StepOp::Relu:
      if (t(s.x).perSample != t(s.y).perSample) shapeError(s, "x and y must have the same size");
      break;
    case StepOp::Softmax:
      if (t(s.x).perSample != t(s.y).perSample) shapeError(s, "x and y must have the same size");
      break;
    case StepOp::Gemm: {
      int N = s.weightShape[0], K = s.weightShape[1];
      if (t(s.x).perSample != static_cast<size_t>(K)) shapeError(s, "x has " + std::to_string(t(s.x).perSample) + " elements per sample, weight expects K = " + std::to_string(K));
      if (t(s.y).perSample != static_cast<size_t>(N)) shapeError(s, "y has " + std::to_string(t(s.y).perSample) + " elements per sample, weight gives N = " + std::to_string(N));
      if (s.weight.length != static_cast<size_t>(N) * K) shapeError(s, "weight.length does not match weight.shape");
      if (s.hasBias && s.bias.length != static_cast<size_t>(N)) shapeError(s, "bias.length must be N = " + std::to_string(N));
      break;
    }
  }
}

const char* opName(StepOp op) {
  switch (op) {
    case StepOp::Conv: return "conv";
    case StepOp::MaxPool: return "maxpool";
    case StepOp::AvgPool: return "avgpool";
    case StepOp::GlobalAvgPool: return "globalavgpool";
    case StepOp::Add: return "add";
    case StepOp::Relu: return "relu";
    case StepOp::Gemm: return "gemm";
    case StepOp::Softmax: return "softmax";
  }
  return "?";
}

Step parseStep(const Json& j, const std::string& path, size_t index, const Plan& plan) {
  Step s;
  s.op = parseOp(j.at("op", path).asString(path + ".op"), path);
  s.label = "step " + std::to_string(index) + " (" + opName(s.op) + ")";
  s.y = readTensorId(j, "y", path, plan);
  switch (s.op) {
    case StepOp::Conv: {
      s.x = readTensorId(j, "x", path, plan);
      const Json& w = j.at("weight", path);
      s.weight = readWeightRef(w, path + ".weight", plan.weightCount);
      readInts(w.at("shape", path + ".weight"), path + ".weight.shape", s.weightShape, 1);
      s.bias = readWeightRef(j.at("bias", path), path + ".bias", plan.weightCount);
      s.hasBias = true;
      readInts(j.at("strides", path), path + ".strides", s.strides, 1);
      readInts(j.at("pads", path), path + ".pads", s.pads, 0);
      readInts(j.at("dilations", path), path + ".dilations", s.dilations, 1);
      s.groups = static_cast<int>(j.at("groups", path).asInt(path + ".groups", 1, kMaxDim));
      if (j.has("residual") && !j.at("residual", path).isNull()) s.residual = readTensorId(j, "residual", path, plan);
      s.relu = j.at("relu", path).asBool(path + ".relu");
      s.kernel[0] = s.weightShape[2];
      s.kernel[1] = s.weightShape[3];
      break;
    }
    case StepOp::MaxPool:
    case StepOp::AvgPool:
      s.x = readTensorId(j, "x", path, plan);
      readInts(j.at("kernel", path), path + ".kernel", s.kernel, 1);
      readInts(j.at("strides", path), path + ".strides", s.strides, 1);
      readInts(j.at("pads", path), path + ".pads", s.pads, 0);
      if (j.has("countIncludePad") && !j.at("countIncludePad", path).isNull()) {
        s.countIncludePad = j.at("countIncludePad", path).asBool(path + ".countIncludePad");
      }
      break;
    case StepOp::GlobalAvgPool:
    case StepOp::Relu:
    case StepOp::Softmax:
      s.x = readTensorId(j, "x", path, plan);
      break;
    case StepOp::Add:
      s.a = readTensorId(j, "a", path, plan);
      s.b = readTensorId(j, "b", path, plan);
      s.relu = j.at("relu", path).asBool(path + ".relu");
      break;
    case StepOp::Gemm: {
      s.x = readTensorId(j, "x", path, plan);
      const Json& w = j.at("weight", path);
      s.weight = readWeightRef(w, path + ".weight", plan.weightCount);
      const auto& shape = w.at("shape", path + ".weight").asArray(path + ".weight.shape");
      if (shape.size() != 2) throw NativeError("plan: " + path + ".weight.shape must be [N, K]");
      s.weightShape[0] = static_cast<int>(shape[0].asInt(path + ".weight.shape[0]", 1, kMaxDim));
      s.weightShape[1] = static_cast<int>(shape[1].asInt(path + ".weight.shape[1]", 1, kMaxDim));
      if (j.has("bias") && !j.at("bias", path).isNull()) {
        s.bias = readWeightRef(j.at("bias", path), path + ".bias", plan.weightCount);
        s.hasBias = true;
      }
      s.relu = j.at("relu", path).asBool(path + ".relu");
      break;
    }
  }
  return s;
}

}  // namespace

size_t Plan::tensorIndex(int id) const {
  auto it = indexById.find(id);
  if (it == indexById.end()) throw NativeError("plan: undeclared tensor " + std::to_string(id));
  return it->second;
}

const TensorDecl& Plan::tensor(int id) const { return tensors[tensorIndex(id)]; }

Plan parsePlan(const std::string& text) {
  Json root = Json::parse(text);
  Plan plan;
  const std::string p = "plan";
  long long version = root.at("version", p).asInt("plan.version", 0, INT_MAX);
  if (version != kPlanVersion) {
    throw NativeError("plan: version " + std::to_string(version) + " is not supported by this addon (expects " +
                      std::to_string(kPlanVersion) + "); rebuild the addon");
  }
  plan.weightCount = static_cast<size_t>(root.at("weightCount", p).asInt("plan.weightCount", 0, kMaxWeights));

  const auto& tensors = root.at("tensors", p).asArray("plan.tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string tp = idx("plan.tensors", i);
    TensorDecl t;
    t.id = static_cast<int>(tensors[i].at("id", tp).asInt(tp + ".id", INT_MIN, INT_MAX));
    const auto& shape = tensors[i].at("shape", tp).asArray(tp + ".shape");
    for (size_t d = 0; d < shape.size(); ++d) {
      t.shape.push_back(static_cast<int>(shape[d].asInt(idx(tp + ".shape", d), 1, kMaxDim)));
      t.perSample *= static_cast<size_t>(t.shape.back());
    }
    if (plan.indexById.count(t.id)) throw NativeError("plan: " + tp + ".id " + std::to_string(t.id) + " is declared twice");
    plan.indexById[t.id] = plan.tensors.size();
    plan.tensors.push_back(std::move(t));
  }

  const Json& input = root.at("input", p);
  plan.inputName = input.at("name", "plan.input").asString("plan.input.name");
  plan.inputTensor = readTensorId(input, "tensor", "plan.input", plan);
  const Json& output = root.at("output", p);
  plan.outputName = output.at("name", "plan.output").asString("plan.output.name");
  plan.outputTensor = readTensorId(output, "tensor", "plan.output", plan);

  const auto& steps = root.at("steps", p).asArray("plan.steps");
  if (steps.empty()) throw NativeError("plan: steps is empty");
  for (size_t i = 0; i < steps.size(); ++i) {
    plan.steps.push_back(parseStep(steps[i], idx("plan.steps", i), i, plan));
    validateStep(plan, plan.steps.back());
  }
  return plan;
}

}  // namespace ofs
