// Shared helpers for the chat-template golden tests: JSON Lines reading and
// running one golden case (same fields as ../shared/data/chat-templates).
#pragma once

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace kiln::chat::test {

using Json = nlohmann::ordered_json;

// Split on '\n' only: the files keep U+2028/U+2029 raw inside strings.
inline std::vector<Json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string all = ss.str();
  std::vector<Json> out;
  size_t start = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    if (nl == std::string::npos) nl = all.size();
    if (nl > start) out.push_back(Json::parse(all.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The goldens' frozen clock: 2025-01-05T09:07:03 local time.
inline std::tm golden_now() {
  std::tm t{};
  t.tm_year = 2025 - 1900;
  t.tm_mon = 0;
  t.tm_mday = 5;
  t.tm_hour = 9;
  t.tm_min = 7;
  t.tm_sec = 3;
  return t;
}

struct CaseResult {
  bool ok = false;
  std::string got;  // rendered text, or "<Type>: <message>"
  bool errored = false;
};

// Renders one case of cases.jsonl with transformers' variables: tools and
// documents always defined (None when null), bos/eos only when non-null.
inline CaseResult run_case(const Json& c, const std::string& source) {
  ChatTemplateOptions opt;
  opt.tgi_patches = false;
  if (c["bos_token"].is_string()) opt.bos_token = c["bos_token"].get<std::string>();
  if (c["eos_token"].is_string()) opt.eos_token = c["eos_token"].get<std::string>();
  CaseResult r;
  auto tmpl = ChatTemplate::compile(source, opt);
  if (!tmpl) {
    r.errored = true;
    r.got = tmpl.message();
  } else {
    static const Json kNull = nullptr;
    RenderInputs in;
    in.messages = &c["messages"];
    in.tools = &c["tools"];
    in.documents = &kNull;
    in.extra = &c["extra"];
    in.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    in.now = golden_now();
    auto out = (*tmpl)->apply(in);
    if (out) {
      r.got = out.value();
    } else {
      r.errored = true;
      r.got = out.error().describe();
    }
  }
  if (c.contains("expected")) {
    r.ok = !r.errored && r.got == c["expected"].get<std::string>();
  } else {
    std::string want = c["expected_error"].get<std::string>();
    const std::string kPrefix = "TemplateError: ";
    r.ok = r.errored && (want.rfind(kPrefix, 0) != 0 || r.got == want);
  }
  return r;
}

}  // namespace kiln::chat::test
