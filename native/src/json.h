// A small JSON reader for the plan (objects, arrays, numbers, strings, booleans, null): the plan is the
// addon's only structured input, so this is all the JSON it needs and no third-party parser is vendored.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ofs {

class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  // Throws NativeError "plan JSON: <what> at offset N".
  static Json parse(const std::string& text);

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }

  // Typed reads; `path` names the value in the error ("plan.steps[2].strides").
  bool asBool(const std::string& path) const;
  double asNumber(const std::string& path) const;
  // An integral number within [lo, hi].
  long long asInt(const std::string& path, long long lo, long long hi) const;
  const std::string& asString(const std::string& path) const;
  const std::vector<Json>& asArray(const std::string& path) const;

  // Object member, or null Json when absent (`has` tells them apart).
  bool has(const std::string& key) const;
  const Json& at(const std::string& key, const std::string& path) const;

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json> object_;

  friend class JsonParser;
};

}  // namespace ofs
