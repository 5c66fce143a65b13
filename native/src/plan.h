// The execution plan (src/runtime/native/plan-format.ts), parsed and checked once at createSession so that
// run() never meets a shape it cannot handle.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace ofs {

constexpr int kPlanVersion = 1;

struct WeightRef {
  size_t offset = 0;
  size_t length = 0;
};

struct TensorDecl {
  int id = 0;
  std::vector<int> shape;  // per sample
  size_t perSample = 1;    // elements per sample
};

enum class StepOp { Conv, MaxPool, AvgPool, GlobalAvgPool, Add, Relu, Gemm, Softmax };

struct Step {
  StepOp op = StepOp::Relu;
  std::string label;  // "step 3 (conv)" for error messages
  int x = -1, y = -1, a = -1, b = -1, residual = -1;
  WeightRef weight, bias;
  bool hasBias = false;
  int weightShape[4] = {0, 0, 0, 0};  // conv [K, C/groups, R, S]; gemm [N, K, -, -]
  int kernel[2] = {1, 1};
  int strides[2] = {1, 1};
  int pads[4] = {0, 0, 0, 0};  // top, left, bottom, right
  int dilations[2] = {1, 1};
  int groups = 1;
  bool relu = false;
  bool countIncludePad = false;
};

struct Plan {
  std::string inputName, outputName;
  int inputTensor = -1, outputTensor = -1;
  std::vector<TensorDecl> tensors;
  std::vector<Step> steps;
  size_t weightCount = 0;

  const TensorDecl& tensor(int id) const;
  size_t tensorIndex(int id) const;

  std::unordered_map<int, size_t> indexById;
};

// Parses and validates; throws NativeError "plan: …" naming the offending field or step.
Plan parsePlan(const std::string& json);

}  // namespace ofs
