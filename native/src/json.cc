#include "json.h"

#include <cmath>
#include <cstdlib>

#include "native_error.h"

namespace ofs {

namespace {

const char* kindName(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::Null: return "null";
    case Json::Kind::Bool: return "a boolean";
    case Json::Kind::Number: return "a number";
    case Json::Kind::String: return "a string";
    case Json::Kind::Array: return "an array";
    case Json::Kind::Object: return "an object";
  }
  return "?";
}

[[noreturn]] void typeError(const std::string& path, const char* expected, Json::Kind got) {
  throw NativeError("plan: " + path + " must be " + expected + ", got " + kindName(got));
}

}  // namespace

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}

  Json document() {
    Json value = parseValue(0);
    skipSpace();
    if (pos_ != s_.size()) fail("trailing characters");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;
  const std::string& s_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw NativeError("plan JSON: " + what + " at offset " + std::to_string(pos_));
  }

  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool consume(const char* word) {
    size_t n = std::char_traits<char>::length(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Json parseValue(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    skipSpace();
    if (pos_ >= s_.size()) fail("unexpected end");
    Json v;
    char c = s_[pos_];
    if (c == '{') {
      v.kind_ = Json::Kind::Object;
      ++pos_;
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == '}') { ++pos_; return v; }
      while (true) {
        skipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a member name");
        std::string key = parseString();
        skipSpace();
        if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':'");
        ++pos_;
        v.object_[key] = parseValue(depth + 1);
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == ',') { ++pos_; continue; }
        if (pos_ < s_.size() && s_[pos_] == '}') { ++pos_; return v; }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind_ = Json::Kind::Array;
      ++pos_;
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ']') { ++pos_; return v; }
      while (true) {
        v.array_.push_back(parseValue(depth + 1));
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == ',') { ++pos_; continue; }
        if (pos_ < s_.size() && s_[pos_] == ']') { ++pos_; return v; }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind_ = Json::Kind::String;
      v.string_ = parseString();
      return v;
    }
    if (consume("true")) { v.kind_ = Json::Kind::Bool; v.bool_ = true; return v; }
    if (consume("false")) { v.kind_ = Json::Kind::Bool; v.bool_ = false; return v; }
    if (consume("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char* start = s_.c_str() + pos_;
      char* end = nullptr;
      double number = std::strtod(start, &end);
      if (end == start) fail("bad number");
      pos_ += static_cast<size_t>(end - start);
      v.kind_ = Json::Kind::Number;
      v.number_ = number;
      return v;
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  std::string parseString() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c != '\\') { out += c; continue; }
      if (pos_ >= s_.size()) fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (pos_ + 4 > s_.size()) fail("bad \\u escape");
          unsigned code = static_cast<unsigned>(std::strtoul(s_.substr(pos_, 4).c_str(), nullptr, 16));
          pos_ += 4;
          // Names in a plan are ASCII in practice; anything wider is kept as UTF-8 of the BMP code point.
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: fail("bad escape");
      }
    }
  }
};

Json Json::parse(const std::string& text) { return JsonParser(text).document(); }

bool Json::asBool(const std::string& path) const {
  if (kind_ != Kind::Bool) typeError(path, "a boolean", kind_);
  return bool_;
}

double Json::asNumber(const std::string& path) const {
  if (kind_ != Kind::Number) typeError(path, "a number", kind_);
  return number_;
}

long long Json::asInt(const std::string& path, long long lo, long long hi) const {
  double n = asNumber(path);
  if (std::floor(n) != n || n < static_cast<double>(lo) || n > static_cast<double>(hi)) {
    throw NativeError("plan: " + path + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got " + std::to_string(n));
  }
  return static_cast<long long>(n);
}

const std::string& Json::asString(const std::string& path) const {
  if (kind_ != Kind::String) typeError(path, "a string", kind_);
  return string_;
}

const std::vector<Json>& Json::asArray(const std::string& path) const {
  if (kind_ != Kind::Array) typeError(path, "an array", kind_);
  return array_;
}

bool Json::has(const std::string& key) const { return kind_ == Kind::Object && object_.count(key) > 0; }

const Json& Json::at(const std::string& key, const std::string& path) const {
  if (kind_ != Kind::Object) typeError(path, "an object", kind_);
  auto it = object_.find(key);
  if (it == object_.end()) throw NativeError("plan: " + path + "." + key + " is missing");
  return it->second;
}

}  // namespace ofs
