#include "model/hub.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "model/hub_http.h"
#include "model/hub_progress.h"
#include "model/sha256.h"

namespace kiln::model::hub {
namespace {

namespace fs = std::filesystem;
using detail::HttpRequest;
using detail::HttpResponse;
using nlohmann::json;

// Files besides the weights that a model directory needs (config, tokenizer,
// chat templates); fetched when the repository has them.
constexpr std::string_view kSideFiles[] = {
    "config.json",           "generation_config.json",  "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    "chat_template.json",
};
constexpr std::string_view kIndexFile = "model.safetensors.index.json";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool env_true(const char* name) {
  std::string v = env(name);
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

bool is_commit_hash(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

// Etags as huggingface_hub stores them: without W/ and quotes.
std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

// A file name inside a repository: relative, no "..", no empty parts.
bool safe_repo_path(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = std::min(p.find('/', start), p.size());
    const auto part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

util::Status write_file_atomic(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return util::make_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path, ec);
  if (ec) return util::make_error(path.string() + ": cannot write: " + ec.message());
  return {};
}

std::string read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// Holds huggingface_hub's per-blob lock file (<cache>/.locks/<repo>/<etag>.lock)
// so that two processes never write the same blob at once.
class BlobLock {
 public:
  explicit BlobLock(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~BlobLock() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  BlobLock(const BlobLock&) = delete;
  BlobLock& operator=(const BlobLock&) = delete;

 private:
  int fd_ = -1;
};

class Downloader {
 public:
  Downloader(const std::string& repo_id, const HubOptions& opt)
      : repo_id_(repo_id), opt_(opt), progress_(opt.progress, opt.log) {
    std::error_code ec;
    const fs::path cache = fs::absolute(opt.cache_dir, ec);
    std::string folder = "models--" + repo_id;
    for (size_t p = 0; (p = folder.find('/', p)) != std::string::npos;) folder.replace(p, 1, "--");
    repo_dir_ = cache / folder;
    locks_dir_ = cache / ".locks" / folder;
  }

  util::Result<fs::path> run() {
    if (opt_.offline) return from_cache("HF_HUB_OFFLINE=1");
    auto info = fetch_revision_info();
    if (!info) {
      // Like huggingface_hub: without a connection, fall back to the cache.
      if (no_connection_) {
        auto cached = from_cache("the Hub cannot be reached (" + info.message() + ")");
        if (cached) {
          say("kiln: " + info.message() + "; using the cached snapshot");
          return cached;
        }
      }
      return util::make_error(info.message());
    }
    auto files = choose_files();
    if (!files) return files.error();
    for (const auto& f : *files) {
      if (auto st = fetch_file(f); !st) return util::make_error(st.message());
    }
    if (!is_commit_hash(opt_.revision)) {
      if (auto st = write_file_atomic(repo_dir_ / "refs" / opt_.revision, commit_); !st)
        return util::make_error(st.message());
    }
    return result_path(repo_dir_ / "snapshots" / commit_);
  }

 private:
  void say(const std::string& line) { progress_.notice(line); }

  std::vector<std::string> auth_headers() const {
    std::vector<std::string> h;
    if (!opt_.token.empty()) h.push_back("Authorization: Bearer " + opt_.token);
    return h;
  }

  // A one-line reason for an HTTP failure on `what`.
  std::string http_error(const HttpResponse& r, const std::string& what) const {
    const std::string id = "'" + repo_id_ + "'";
    if (r.status == 401 || r.status == 403) {
      return "Hub model " + id + " is gated or private (" + std::to_string(r.status) + " on " +
             what + "): " +
             (opt_.token.empty() ? "set HF_TOKEN to a token that has access"
                                 : "the token in HF_TOKEN has no access to it");
    }
    if (r.status == 404)
      return "Hub model " + id + " or revision '" + opt_.revision + "' not found (404 on " + what +
             ")";
    if (r.status == 0) return "cannot reach " + opt_.endpoint + " for " + what + ": " + r.error;
    return "Hub answered " + std::to_string(r.status) + " for " + what;
  }

  util::Status fetch_revision_info() {
    HttpRequest req;
    req.url = opt_.endpoint + "/api/models/" + repo_id_ + "/revision/" +
              detail::url_encode(opt_.revision, false);
    req.headers = auth_headers();
    req.follow_redirects = true;
    req.connect_timeout_s = opt_.connect_timeout_s;
    const HttpResponse r = detail::http_request(req);
    if (r.status != 200) {
      no_connection_ = r.status == 0;
      return util::make_error(http_error(r, "the model info"));
    }
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("sha") || !j["sha"].is_string())
      return util::make_error("Hub model info for '" + repo_id_ + "' is not the expected JSON");
    commit_ = j["sha"].get<std::string>();
    if (!is_commit_hash(commit_))
      return util::make_error("Hub model info for '" + repo_id_ + "' has a bad commit hash");
    if (auto s = j.find("siblings"); s != j.end() && s->is_array()) {
      for (const auto& f : *s)
        if (f.is_object() && f.contains("rfilename") && f["rfilename"].is_string())
          siblings_.insert(f["rfilename"].get<std::string>());
    }
    return {};
  }

  util::Result<std::vector<std::string>> choose_files() {
    std::vector<std::string> files;
    auto side_files = [&] {
      for (auto f : kSideFiles)
        if (siblings_.count(std::string(f))) files.emplace_back(f);
      for (const auto& f : siblings_)
        if (f.rfind("additional_chat_templates/", 0) == 0 && f.size() > 6 &&
            f.compare(f.size() - 6, 6, ".jinja") == 0)
          files.push_back(f);
    };
    if (!opt_.gguf_file.empty()) {
      if (!siblings_.count(opt_.gguf_file))
        return util::make_error("Hub model '" + repo_id_ + "' has no file '" + opt_.gguf_file +
                                "'");
      files.push_back(opt_.gguf_file);
      gguf_path_ = opt_.gguf_file;
      return files;
    }
    if (siblings_.count(std::string(kIndexFile))) {
      side_files();
      // The index names the shards; fetch it first.
      if (auto st = fetch_file(std::string(kIndexFile)); !st) return util::make_error(st.message());
      const fs::path index = repo_dir_ / "snapshots" / commit_ / kIndexFile;
      std::ifstream in(index);
      json j = json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object())
        return util::make_error(index.string() + ": no weight_map object");
      std::set<std::string> shards;
      for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string() || !safe_repo_path(file.get<std::string>()))
          return util::make_error(index.string() + ": bad shard name for '" + name + "'");
        shards.insert(file.get<std::string>());
      }
      for (const auto& s : shards) {
        if (!siblings_.count(s))
          return util::make_error(index.string() + ": shard '" + s + "' is not in the repository");
        files.push_back(s);
      }
      return files;
    }
    if (siblings_.count("model.safetensors")) {
      side_files();
      files.emplace_back("model.safetensors");
      return files;
    }
    std::vector<std::string> ggufs;
    for (const auto& f : siblings_)
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".gguf") == 0) ggufs.push_back(f);
    if (ggufs.size() == 1) {
      gguf_path_ = ggufs[0];
      files.push_back(ggufs[0]);
      return files;
    }
    if (ggufs.empty())
      return util::make_error("Hub model '" + repo_id_ +
                              "' has no model.safetensors, safetensors index or .gguf file");
    std::string list;
    for (size_t i = 0; i < ggufs.size() && i < 8; ++i) list += (i ? ", " : "") + ggufs[i];
    return util::make_error("Hub model '" + repo_id_ + "' has " + std::to_string(ggufs.size()) +
                            " .gguf files (" + list + (ggufs.size() > 8 ? ", ..." : "") +
                            "); choose one with --gguf-file");
  }

  // HEAD of a file: etag, size and commit as huggingface_hub reads them (from the
  // redirect response itself for LFS files; relative redirects are followed).
  util::Status file_metadata(const std::string& url, std::string& etag, uint64_t& size) {
    std::string target = url;
    for (int hop = 0; hop < 5; ++hop) {
      HttpRequest req;
      req.method = "HEAD";
      req.url = target;
      req.headers = auth_headers();
      req.headers.push_back("Accept-Encoding: identity");
      req.connect_timeout_s = opt_.connect_timeout_s;
      const HttpResponse r = detail::http_request(req);
      if (r.status >= 300 && r.status < 400) {
        auto loc = r.headers.find("location");
        if (loc != r.headers.end() && !loc->second.empty() && loc->second[0] == '/' &&
            r.headers.count("x-linked-etag") == 0) {
          target = opt_.endpoint + loc->second;  // renamed repository: follow
          continue;
        }
      } else if (r.status != 200) {
        return util::make_error(http_error(r, target.substr(opt_.endpoint.size())));
      }
      auto get = [&](const char* a, const char* b) -> std::string {
        if (auto it = r.headers.find(a); it != r.headers.end()) return it->second;
        if (auto it = r.headers.find(b); it != r.headers.end()) return it->second;
        return {};
      };
      etag = normalize_etag(get("x-linked-etag", "etag"));
      const std::string len = get("x-linked-size", "content-length");
      if (etag.empty() || etag.find('/') != std::string::npos ||
          etag.find("..") != std::string::npos)
        return util::make_error("Hub gave no usable etag for " + url);
      try {
        size = std::stoull(len);
      } catch (const std::exception&) {
        return util::make_error("Hub gave no file size for " + url);
      }
      return {};
    }
    return util::make_error("too many redirects for " + url);
  }

  util::Status fetch_file(const std::string& file) {
    if (!safe_repo_path(file)) return util::make_error("unsafe file name in repository: " + file);
    if (done_.count(file)) return {};
    const std::string url = opt_.endpoint + "/" + repo_id_ + "/resolve/" + commit_ + "/" +
                            detail::url_encode(file, true);
    std::string etag;
    uint64_t size = 0;
    if (auto st = file_metadata(url, etag, size); !st) return st;
    const fs::path blob = repo_dir_ / "blobs" / etag;
    const fs::path pointer = repo_dir_ / "snapshots" / commit_ / file;
    std::error_code ec;
    fs::create_directories(blob.parent_path(), ec);
    {
      BlobLock lock(locks_dir_ / (etag + ".lock"));
      if (!(fs::exists(blob, ec) && fs::file_size(blob, ec) == size)) {
        if (auto st = download_blob(url, file, blob, size, etag); !st) return st;
      }
    }
    fs::create_directories(pointer.parent_path(), ec);
    fs::remove(pointer, ec);
    fs::create_symlink(blob.lexically_relative(pointer.parent_path()), pointer, ec);
    if (ec) return util::make_error(pointer.string() + ": cannot create symlink: " + ec.message());
    done_.insert(file);
    return {};
  }

  util::Status download_blob(const std::string& url, const std::string& file, const fs::path& blob,
                             uint64_t size, const std::string& etag) {
    const fs::path part = blob.string() + ".incomplete";
    std::error_code ec;
    progress_.start(file, size);
    for (int attempt = 0;; ++attempt) {
      uint64_t have = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
      if (have > size) {
        fs::remove(part, ec);
        have = 0;
      }
      if (have == size) break;
      std::FILE* out = std::fopen(part.c_str(), "ab");
      if (out == nullptr) return util::make_error(part.string() + ": cannot write");
      uint64_t written = have;
      bool restarted = false;
      HttpRequest req;
      req.url = url;
      req.headers = auth_headers();
      req.headers.push_back("Accept-Encoding: identity");
      if (have > 0) req.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
      req.follow_redirects = true;
      req.connect_timeout_s = opt_.connect_timeout_s;
      req.on_body = [&](const char* data, size_t n, long status) {
        if (status == 200 && have > 0 && !restarted) {  // the server ignored Range: start over
          restarted = true;
          std::fclose(out);
          out = std::fopen(part.c_str(), "wb");
          written = 0;
          if (out == nullptr) return false;
        }
        if (status != 200 && status != 206) return false;
        if (written + n > size) return false;  // more bytes than the Hub announced
        if (std::fwrite(data, 1, n, out) != n) return false;
        written += n;
        progress_.update(written);
        return true;
      };
      const HttpResponse r = detail::http_request(req);
      const bool write_ok = out != nullptr && std::fclose(out) == 0;
      if (!write_ok) return util::make_error(part.string() + ": write failed");
      if (r.status == 416) {  // nothing left to send from `have`: check what we have
        if (have == size) break;
        fs::remove(part, ec);
      } else if (r.status != 200 && r.status != 206 && r.status != 0) {
        return util::make_error(http_error(r, file));
      }
      if (written == size) break;
      if (attempt >= opt_.max_retries)
        return util::make_error("download of " + repo_id_ + "/" + file + " failed after " +
                                std::to_string(attempt + 1) + " attempts (" +
                                (r.error.empty() ? "short read" : r.error) + ")");
      say("kiln: " + file + ": connection dropped at " + std::to_string(written) + " of " +
          std::to_string(size) + " bytes; resuming");
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
    }
    if (fs::file_size(part, ec) != size)
      return util::make_error(repo_id_ + "/" + file + ": size mismatch after download");
    if (is_sha256_hex(etag)) {
      const auto sum = sha256_file(part);
      if (!sum || *sum != etag) {
        fs::remove(part, ec);
        return util::make_error(repo_id_ + "/" + file + ": SHA-256 mismatch (expected " + etag +
                                ", got " + sum.value_or("unreadable") + "); removed the download");
      }
    }
    fs::rename(part, blob, ec);
    if (ec) return util::make_error(blob.string() + ": cannot rename: " + ec.message());
    progress_.finish();
    return {};
  }

  util::Result<fs::path> from_cache(const std::string& why) {
    std::error_code ec;
    std::string commit = opt_.revision;
    if (!is_commit_hash(commit)) {
      const fs::path ref = repo_dir_ / "refs" / opt_.revision;
      if (!fs::exists(ref, ec))
        return util::make_error(why + " and '" + repo_id_ + "' (revision '" + opt_.revision +
                                "') is not in the cache " + opt_.cache_dir.string());
      commit = read_small_file(ref);
    }
    const fs::path snap = repo_dir_ / "snapshots" / commit;
    auto missing = [&](const std::string& what) {
      return util::make_error(why + " and " + what + " of '" + repo_id_ +
                              "' is not in the cache (" + snap.string() + ")");
    };
    if (!fs::is_directory(snap, ec)) return missing("the snapshot");
    if (!opt_.gguf_file.empty()) {
      if (!fs::exists(snap / opt_.gguf_file, ec)) return missing(opt_.gguf_file);
      gguf_path_ = opt_.gguf_file;
      return result_path(snap);
    }
    if (fs::exists(snap / kIndexFile, ec)) {
      std::ifstream in(snap / kIndexFile);
      json j = json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object())
        return util::make_error((snap / kIndexFile).string() + ": no weight_map object");
      for (const auto& [name, file] : j["weight_map"].items())
        if (!file.is_string() || !fs::exists(snap / file.get<std::string>(), ec))
          return missing("a shard of " + std::string(kIndexFile));
      return result_path(snap);
    }
    if (fs::exists(snap / "model.safetensors", ec)) return result_path(snap);
    std::vector<std::string> ggufs;
    for (const auto& e : fs::directory_iterator(snap, ec))
      if (e.path().extension() == ".gguf") ggufs.push_back(e.path().filename().string());
    if (ggufs.size() == 1) {
      gguf_path_ = ggufs[0];
      return result_path(snap);
    }
    return missing("the weights");
  }

  fs::path result_path(const fs::path& snapshot) const {
    return gguf_path_.empty() ? snapshot : snapshot / gguf_path_;
  }

  std::string repo_id_;
  const HubOptions& opt_;
  detail::Progress progress_;
  fs::path repo_dir_, locks_dir_;
  std::string commit_;
  std::set<std::string> siblings_;
  std::set<std::string> done_;
  std::string gguf_path_;  // relative to the snapshot, when the model is one GGUF file
  bool no_connection_ = false;
};

}  // namespace

HubOptions options_from_env() {
  HubOptions o;
  if (auto e = env("HF_ENDPOINT"); !e.empty()) o.endpoint = e;
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  const std::string home_env = env("HOME");
  fs::path hf_home = env("HF_HOME");
  if (hf_home.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME");
    hf_home = (xdg.empty() ? fs::path(home_env) / ".cache" : fs::path(xdg)) / "huggingface";
  }
  if (auto c = env("HF_HUB_CACHE"); !c.empty())
    o.cache_dir = c;
  else if (auto c2 = env("HUGGINGFACE_HUB_CACHE"); !c2.empty())
    o.cache_dir = c2;
  else
    o.cache_dir = hf_home / "hub";
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN"}) {
    if (auto t = env(name); !t.empty()) {
      o.token = t;
      break;
    }
  }
  if (o.token.empty()) {
    fs::path token_path = env("HF_TOKEN_PATH");
    if (token_path.empty()) token_path = hf_home / "token";
    std::error_code ec;
    if (fs::exists(token_path, ec)) o.token = read_small_file(token_path);
  }
  o.offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
  return o;
}

bool is_repo_id(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  const size_t slash = s.find('/');
  if (slash != std::string_view::npos && s.find('/', slash + 1) != std::string_view::npos)
    return false;
  auto part_ok = [](std::string_view p) {
    if (p.empty() || p.front() == '.' || p.front() == '-' ||
        p.find("..") != std::string_view::npos || p.find("--") != std::string_view::npos)
      return false;
    return std::all_of(p.begin(), p.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
  };
  if (slash == std::string_view::npos) return part_ok(s);
  return part_ok(s.substr(0, slash)) && part_ok(s.substr(slash + 1));
}

util::Result<fs::path> download(const std::string& repo_id, const HubOptions& options) {
  if (!is_repo_id(repo_id))
    return util::make_error("'" + repo_id + "' is not a Hub model id (expected org/name)");
  if (options.cache_dir.empty())
    return util::make_error("no Hub cache directory (set HF_HUB_CACHE or HF_HOME)");
  if (options.revision.empty() || !safe_repo_path(options.revision))
    return util::make_error("bad revision '" + options.revision + "'");
  if (!options.gguf_file.empty() && !safe_repo_path(options.gguf_file))
    return util::make_error("bad --gguf-file '" + options.gguf_file + "'");
  Downloader d(repo_id, options);
  return d.run();
}

util::Result<fs::path> resolve_model(const std::string& model_id, const HubOptions& options) {
  std::error_code ec;
  if (fs::exists(model_id, ec)) return fs::path(model_id);
  if (!is_repo_id(model_id))
    return util::make_error("'" + model_id +
                            "' is neither a local file or directory nor a Hub model id");
  return download(model_id, options);
}

}  // namespace kiln::model::hub
