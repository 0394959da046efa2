// Renders one conversation through one chat template many times and prints
// CPU microseconds per render (JSON -> values + render, as the server does per
// request; the template is compiled once). Driven by bench_chat_templates.py,
// which times Python jinja2 on the same inputs.
//
// usage: bench_chat_template TEMPLATE.jinja CONVERSATION.json [ITERATIONS]
//   CONVERSATION.json: {"messages", "tools", "add_generation_prompt",
//                       "bos_token", "eos_token", "extra"}
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "chat/chat_template.h"

namespace {

std::string read_file(const char* path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TEMPLATE CONVERSATION.json [ITERATIONS]\n", argv[0]);
    return 2;
  }
  int iterations = argc > 3 ? std::atoi(argv[3]) : 2000;
  using kiln::chat::Json;
  Json conv = Json::parse(read_file(argv[2]), nullptr, false);
  if (conv.is_discarded()) {
    std::fprintf(stderr, "%s: not valid JSON\n", argv[2]);
    return 1;
  }
  kiln::chat::ChatTemplateOptions opt;
  opt.tgi_patches = false;
  if (conv.contains("bos_token") && conv["bos_token"].is_string())
    opt.bos_token = conv["bos_token"];
  if (conv.contains("eos_token") && conv["eos_token"].is_string())
    opt.eos_token = conv["eos_token"];
  auto tmpl = kiln::chat::ChatTemplate::compile(read_file(argv[1]), opt);
  if (!tmpl) {
    std::fprintf(stderr, "%s\n", tmpl.message().c_str());
    return 1;
  }
  kiln::chat::RenderInputs in;
  in.messages = &conv["messages"];
  in.tools = &conv["tools"];
  in.extra = conv.contains("extra") ? &conv["extra"] : nullptr;
  in.add_generation_prompt = conv.value("add_generation_prompt", true);
  size_t bytes = 0;
  for (int i = 0; i < iterations / 10 + 1; ++i) {  // warm-up
    auto out = (*tmpl)->apply(in);
    if (!out) {
      std::fprintf(stderr, "render failed: %s\n", out.error().describe().c_str());
      return 1;
    }
    bytes = out.value().size();
  }
  // CPU time of this process, not wall time: the benchmark machines are
  // shared, and CPU time is what a render costs the server.
  auto cpu_us = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  };
  double t0 = cpu_us();
  for (int i = 0; i < iterations; ++i) {
    auto out = (*tmpl)->apply(in);
    bytes += out.ok() ? 0 : 1;
  }
  double us = (cpu_us() - t0) / iterations;
  std::printf("{\"us_per_render\": %.3f, \"output_bytes\": %zu, \"iterations\": %d}\n", us, bytes,
              iterations);
  return 0;
}
