// Hub client pieces that need no network: repo id checks, environment
// handling, SHA-256, and resolving from a cache laid out the way the
// huggingface_hub library lays it out. Downloads are tested against a fake Hub
// in tests/e2e/model/test_hub_download.py.
#include "model/hub.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "model/forward.h"
#include "model/sha256.h"
#include "model/summary.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

namespace fs = std::filesystem;

TEST(Hub, RepoIds) {
  EXPECT_TRUE(hub::is_repo_id("google/gemma-3-270m"));
  EXPECT_TRUE(hub::is_repo_id("gpt2"));
  EXPECT_TRUE(hub::is_repo_id("Qwen/Qwen2.5-0.5B-Instruct"));
  EXPECT_FALSE(hub::is_repo_id(""));
  EXPECT_FALSE(hub::is_repo_id("a/b/c"));
  EXPECT_FALSE(hub::is_repo_id("../etc"));
  EXPECT_FALSE(hub::is_repo_id("org/.."));
  EXPECT_FALSE(hub::is_repo_id("org/na me"));
  EXPECT_FALSE(hub::is_repo_id("org--x/name"));  // "--" would be ambiguous in models--org--name
}

class EnvGuard {
 public:
  explicit EnvGuard(std::vector<std::pair<const char*, const char*>> vars) {
    for (auto [k, v] : vars) {
      const char* old = std::getenv(k);
      saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      if (v)
        ::setenv(k, v, 1);
      else
        ::unsetenv(k);
    }
  }
  ~EnvGuard() {
    for (auto& [k, v] : saved_) {
      if (v)
        ::setenv(k.c_str(), v->c_str(), 1);
      else
        ::unsetenv(k.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(Hub, OptionsFromEnvironment) {
  {
    EnvGuard env({{"HF_ENDPOINT", "http://127.0.0.1:1234/"},
                  {"HF_HOME", "/tmp/hfhome"},
                  {"HF_HUB_CACHE", nullptr},
                  {"HUGGINGFACE_HUB_CACHE", nullptr},
                  {"HF_TOKEN", nullptr},
                  {"HUGGING_FACE_HUB_TOKEN", "tok2"},
                  {"HF_API_TOKEN", nullptr},
                  {"HF_HUB_OFFLINE", "1"}});
    const auto o = hub::options_from_env();
    EXPECT_EQ(o.endpoint, "http://127.0.0.1:1234");
    EXPECT_EQ(o.cache_dir, fs::path("/tmp/hfhome/hub"));
    EXPECT_EQ(o.token, "tok2");
    EXPECT_TRUE(o.offline);
  }
  {
    EnvGuard env({{"HF_ENDPOINT", nullptr},
                  {"HF_HUB_CACHE", nullptr},
                  {"HUGGINGFACE_HUB_CACHE", "/tmp/legacy"},
                  {"HF_TOKEN", "tok1"},
                  {"HUGGING_FACE_HUB_TOKEN", "tok2"},
                  {"HF_HUB_OFFLINE", "0"},
                  {"TRANSFORMERS_OFFLINE", nullptr}});
    const auto o = hub::options_from_env();
    EXPECT_EQ(o.endpoint, "https://huggingface.co");
    EXPECT_EQ(o.cache_dir, fs::path("/tmp/legacy"));
    EXPECT_EQ(o.token, "tok1");
    EXPECT_FALSE(o.offline);
  }
  {
    EnvGuard env({{"HF_HUB_CACHE", "/tmp/new"}, {"HUGGINGFACE_HUB_CACHE", "/tmp/legacy"}});
    EXPECT_EQ(hub::options_from_env().cache_dir, fs::path("/tmp/new"));
  }
}

// FIPS 180-4 test vectors, and a file hashed by Python's hashlib (its sha256 is the
// safetensors file's LFS etag; hf_expected.json does not hold it, so it is here).
TEST(Sha256, KnownVectors) {
  auto hex = [](std::string_view s) {
    Sha256 h;
    h.update(s.data(), s.size());
    return Sha256::hex(h.finish());
  };
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 chunked;  // one million 'a', fed in uneven pieces
  const std::string piece(1001, 'a');
  for (int i = 0; i < 1000; ++i) chunked.update(piece.data(), i % 2 ? 999 : 1001);
  EXPECT_EQ(Sha256::hex(chunked.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// A cache written by hand in huggingface_hub's layout is found offline.
TEST(Hub, OfflineFromCacheLayout) {
  const fs::path cache = fs::path(::testing::TempDir()) / "kiln_hub_cache";
  fs::remove_all(cache);
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  const fs::path repo = cache / "models--kiln-test--tiny-llama";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "refs");
  fs::create_directories(repo / "snapshots" / commit);
  std::ofstream(repo / "refs" / "main") << commit;
  const fs::path src = test::data_dir() / "models/hf-tiny-llama";
  for (const auto& e : fs::directory_iterator(src)) {
    const std::string blob = "blob-" + e.path().filename().string();
    fs::copy_file(e.path(), repo / "blobs" / blob);
    fs::create_symlink(fs::path("../../blobs") / blob,
                       repo / "snapshots" / commit / e.path().filename());
  }
  hub::HubOptions o;
  o.cache_dir = cache;
  o.offline = true;
  o.endpoint = "http://127.0.0.1:9";  // never contacted
  auto p = hub::download("kiln-test/tiny-llama", o);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(*p, fs::absolute(repo / "snapshots" / commit));
  auto m = load_model(*p);
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->arch, Arch::kLlama);

  o.revision = commit;  // a commit hash needs no ref
  EXPECT_TRUE(hub::download("kiln-test/tiny-llama", o).ok());
  o.revision = "v2";
  auto missing = hub::download("kiln-test/tiny-llama", o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("HF_HUB_OFFLINE=1 and 'kiln-test/tiny-llama' (revision 'v2') "
                                   "is not in the cache"),
            std::string::npos)
      << missing.message();
  o.revision = "main";
  fs::remove(repo / "snapshots" / commit / "model.safetensors");
  auto no_weights = hub::download("kiln-test/tiny-llama", o);
  ASSERT_FALSE(no_weights.ok());
  EXPECT_NE(no_weights.message().find("the weights of 'kiln-test/tiny-llama' is not in the cache"),
            std::string::npos)
      << no_weights.message();
  fs::remove_all(cache);
}

TEST(Hub, ResolveModelKeepsLocalPaths) {
  hub::HubOptions o;
  o.offline = true;
  const fs::path local = test::data_dir() / "models/hf-tiny-llama";
  auto p = hub::resolve_model(local.string(), o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, local);
  auto bad = hub::resolve_model("./no/such/dir", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("is neither a local file or directory nor a Hub model id"),
            std::string::npos);
}

// KV cache arithmetic on the default model's shape (Gemma 3 270M: 18 layers,
// 1 KV head of 256, window 512 on 15 layers).
TEST(Summary, KvCacheBytes) {
  HyperParams hp;
  hp.n_layer = 18;
  hp.n_head_kv = 1;
  hp.head_dim = hp.head_dim_v = 256;
  hp.sliding_window = 512;
  hp.layer_is_swa.resize(18);
  for (int il = 0; il < 18; ++il) hp.layer_is_swa[il] = il % 6 != 5;
  const uint64_t per_token_layer = 2 * 256 * 2;  // K and V, f16
  EXPECT_EQ(kv_cache_bytes(hp, {.n_ctx = 4096, .n_seq = 2}),
            per_token_layer * 2 * (3 * 4096 + 15 * 512));
  EXPECT_EQ(kv_cache_bytes(hp, {.n_ctx = 4096, .n_seq = 2, .window_only_on_swa_layers = false}),
            per_token_layer * 2 * 18 * 4096);
  EXPECT_EQ(kv_cache_bytes(hp, {.n_ctx = 100, .n_seq = 1}), per_token_layer * 18 * 100);
}

// `kiln inspect` prices the KV cache as the engine allocates it: f32 K and V
// on every layer, sliding-window layers included (tiny Gemma 3: window 8 on
// 5 of its 6 layers).
TEST(Summary, KvCacheBytesMatchWhatTheCacheAllocates) {
  auto desc = load_model(test::data_dir() / "models/gguf/tiny-gemma3-f32.gguf");
  ASSERT_TRUE(desc.ok()) << desc.message();
  const HyperParams hp = desc->hparams;
  ASSERT_GT(hp.sliding_window, 0);
  auto model = Model::create(std::make_shared<ModelDescription>(std::move(desc).value()));
  ASSERT_TRUE(model.ok()) << model.message();
  const int64_t n_blocks = 8;
  const auto options = (*model)->kv_cache_options(n_blocks);
  EXPECT_EQ(static_cast<uint64_t>(KvCache::storage_bytes(options)),
            kv_cache_bytes(hp, engine_kv_sizes(n_blocks * options.block_size, 1)));
}

TEST(Summary, TinyLlamaCounts) {
  auto m = load_model(test::data_dir() / "models/hf-tiny-qwen2");
  ASSERT_TRUE(m.ok()) << m.message();
  const auto s = summarize(*m);
  EXPECT_EQ(s.n_params, 139840);  // "total_parameters" in the index transformers wrote
  EXPECT_EQ(s.weight_bytes, 559360u);
  ASSERT_EQ(s.types.size(), 1u);
  EXPECT_EQ(s.types[0].type, "F32");
  EXPECT_EQ(s.tokenizer, "tokenizer.json:BPE");
  EXPECT_EQ(s.tokenizer_vocab, 512);
}

}  // namespace
}  // namespace kiln::model
