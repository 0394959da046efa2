// `kiln template render`: applies a chat template to JSON Lines of
// {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token",
// "extra"} (the fields of the chat-template goldens) exactly as transformers'
// apply_chat_template does, writing {"text": ...} or {"error": "<Type>: ..."}
// per input line, in order.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "chat/chat_template.h"
#include "chat/template_source.h"
#include "cli/commands.h"

#if __has_include("model/model.h")
#include "model/model.h"
#define KILN_TEMPLATE_HAVE_MODEL 1
#endif

namespace kiln::cli {

namespace {

struct TemplateArgs {
  std::string template_file;
  std::string model_path;
  std::string now;
};

std::optional<std::tm> parse_now(const std::string& s) {
  std::tm t{};
  int y, mo, d, h, mi, se;
  char tail;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &h, &mi, &se, &tail) != 6)
    return std::nullopt;
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = se;
  return t;
}

util::Result<chat::ModelTemplates> model_templates(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) {
    auto hf = chat::load_hf_templates(path);
    if (!hf) return hf.error();
    if (!hf->templates.empty()) return hf;
  }
#ifdef KILN_TEMPLATE_HAVE_MODEL
  auto desc = model::load_model(path);
  if (!desc) return desc.error();
  chat::ModelTemplates out;
  for (const auto& t : desc->chat_templates) out.templates.push_back({t.name, t.source});
  if (!desc->special.bos_text.empty()) out.bos_token = desc->special.bos_text;
  if (!desc->special.eos_text.empty()) out.eos_token = desc->special.eos_text;
  out.origin = path.string();
  return out;
#else
  return util::make_error(path.string() + ": no chat template found (GGUF needs the model loader)");
#endif
}

std::string dump(const chat::Json& j) {
  return j.dump(-1, ' ', false, chat::Json::error_handler_t::replace);
}

// Tokens given on the line replace the model's; null means undefined.
std::optional<std::optional<std::string>> token_override(const chat::Json& line, const char* key) {
  if (!line.contains(key)) return std::nullopt;
  const chat::Json& v = line[key];
  if (v.is_string()) return std::optional<std::string>(v.get<std::string>());
  return std::optional<std::string>();
}

int run_render(const TemplateArgs& args) {
  util::Result<chat::ModelTemplates> source = !args.template_file.empty()
                                                  ? chat::load_template_file(args.template_file)
                                                  : model_templates(args.model_path);
  if (!source) {
    std::fprintf(stderr, "kiln template: %s\n", source.message().c_str());
    return 1;
  }
  if (source->templates.empty()) {
    std::fprintf(stderr, "kiln template: %s: template not found\n", args.model_path.c_str());
    return 1;
  }
  std::optional<std::tm> now;
  if (!args.now.empty()) {
    now = parse_now(args.now);
    if (!now) {
      std::fprintf(stderr, "kiln template: --now: expected YYYY-MM-DDTHH:MM:SS, got '%s'\n",
                   args.now.c_str());
      return 2;
    }
  }
  chat::ChatTemplateOptions options;
  options.tgi_patches = false;  // transformers-exact, like the goldens
  options.bos_token = source->bos_token;
  options.eos_token = source->eos_token;
  auto tmpl = chat::ChatTemplate::compile(std::move(source->templates), options);
  if (!tmpl) {
    std::fprintf(stderr, "kiln template: %s\n", tmpl.message().c_str());
    return 1;
  }

  static const chat::Json kNull = nullptr;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    chat::Json out = chat::Json::object();
    chat::Json in = chat::Json::parse(line, nullptr, false);
    if (in.is_discarded() || !in.is_object()) {
      out["error"] = "invalid input line: expected a JSON object";
    } else if (!in.contains("messages") || !in["messages"].is_array()) {
      out["error"] = "invalid input line: 'messages' must be an array";
    } else {
      chat::RenderInputs r;
      r.messages = &in["messages"];
      r.tools = in.contains("tools") ? &in["tools"] : &kNull;
      r.documents = &kNull;
      r.extra = in.contains("extra") ? &in["extra"] : nullptr;
      r.add_generation_prompt = in.value("add_generation_prompt", false);
      r.now = now;
      r.bos_token = token_override(in, "bos_token");
      r.eos_token = token_override(in, "eos_token");
      auto text = (*tmpl)->apply(r, !r.tools->is_null());
      if (text)
        out["text"] = std::move(text).value();
      else
        out["error"] = text.error().describe();
    }
    std::string s = dump(out);
    s.push_back('\n');
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_template_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("template", "Chat template tools");
  cmd->require_subcommand(1);
  auto args = std::make_shared<TemplateArgs>();
  auto* render = cmd->add_subcommand(
      "render", "Render JSON Lines conversations through a chat template (transformers semantics)");
  auto* file_opt = render->add_option("--template", args->template_file, "Jinja template file");
  auto* model_opt =
      render->add_option("--model", args->model_path, "Model (.gguf or Hugging Face directory)");
  file_opt->excludes(model_opt);
  render->add_option("--now", args->now, "Frozen clock for strftime_now, e.g. 2025-01-05T09:07:03");
  render->callback([args, render] {
    if (args->template_file.empty() && args->model_path.empty()) {
      std::fprintf(stderr, "kiln template render: give --template FILE or --model PATH\n");
      std::exit(2);
    }
    (void)render;
    std::exit(run_render(*args));
  });
}

}  // namespace kiln::cli
