// Bad input to the forward pass: a description whose tensors disagree with
// its hyper-parameters, token ids outside the vocabulary, sequences longer
// than the context, and batches that break the KV cache's rules all end in a
// clear error that changes nothing.
#include <gtest/gtest.h>

#include "forward_test_util.h"
#include "model_test_util.h"

namespace kiln::model {
namespace {

std::shared_ptr<ModelDescription> tiny_llama() {
  auto path = test::find_gguf("tiny-llama-f32.gguf");
  EXPECT_TRUE(path.has_value());
  auto desc = load_model(*path);
  EXPECT_TRUE(desc.ok()) << desc.message();
  return std::make_shared<ModelDescription>(std::move(desc).value());
}

Tensor& tensor(ModelDescription& m, const std::string& name) {
  for (auto& t : m.tensors)
    if (t.name == name) return t;
  ADD_FAILURE() << name;
  return m.tensors.front();
}

std::string create_error(std::shared_ptr<ModelDescription> m) {
  auto r = Model::create(std::move(m));
  return r.ok() ? "" : r.message();
}

TEST(ForwardBadInputTest, TensorShapesThatDisagreeWithTheConfig) {
  auto m = tiny_llama();
  tensor(*m, "blk.1.ffn_down.weight").shape = {256, 700};
  EXPECT_NE(
      create_error(m).find("'blk.1.ffn_down.weight' has shape [256, 700], expected [256, 768]"),
      std::string::npos)
      << create_error(m);

  m = tiny_llama();
  m->hparams.n_head_kv = 4;  // attn_k has 2 KV heads' rows
  EXPECT_NE(create_error(m).find("'blk.0.attn_k.weight' has shape [64, 256], expected [128, 256]"),
            std::string::npos)
      << create_error(m);

  m = tiny_llama();
  m->hparams.n_ff = 1024;
  EXPECT_NE(create_error(m).find("ffn_gate.weight"), std::string::npos);

  m = tiny_llama();
  tensor(*m, "output_norm.weight").name = "renamed";
  EXPECT_NE(create_error(m).find("missing tensor 'output_norm.weight'"), std::string::npos);

  m = tiny_llama();
  m->hparams.n_head = 7;  // not a multiple of the 2 KV heads
  EXPECT_NE(create_error(m), "");

  m = tiny_llama();
  tensor(*m, "blk.0.attn_q.weight").dtype = backend::DType::kI32;
  EXPECT_NE(create_error(m).find("cannot compute"), std::string::npos) << create_error(m);
}

class ForwardBadBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelOptions options;
    options.n_ctx = 16;
    model_ = std::move(Model::create(tiny_llama(), options).value());
    kv_ = std::move(KvCache::create(model_->kv_cache_options(8, 4)).value());
    seq_ = std::make_unique<KvSequence>(*kv_);
    ASSERT_TRUE(seq_->reserve(16));
  }
  void TearDown() override {
    seq_.reset();
    other_.reset();
  }
  std::string error_of(const Batch& b) {
    auto r = model_->forward(b, *kv_);
    EXPECT_EQ(seq_->n_positions(), 0) << "a failed forward must change nothing";
    return r.ok() ? "" : r.message();
  }
  Batch batch(std::vector<BatchToken> tokens) {
    Batch b;
    b.seqs = {seq_.get()};
    b.tokens = std::move(tokens);
    return b;
  }
  std::unique_ptr<Model> model_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<KvSequence> seq_, other_;
};

TEST_F(ForwardBadBatchTest, TokenIdOutsideTheVocabulary) {
  EXPECT_EQ(error_of(batch({{.id = 1}, {.id = 512, .pos = 1}})),
            "token 1: id 512 is outside the vocabulary (512 tokens)");
  EXPECT_NE(error_of(batch({{.id = -3}})), "");
}

TEST_F(ForwardBadBatchTest, SequenceLongerThanTheContext) {
  std::vector<BatchToken> tokens;
  for (int i = 0; i < 16; ++i) tokens.push_back({.id = 5, .pos = i});
  ASSERT_TRUE(model_->forward(batch(tokens), *kv_).ok());  // exactly n_ctx is fine
  EXPECT_EQ(seq_->n_positions(), 16);
  auto r = model_->forward(batch({{.id = 5, .pos = 16, .logits = true}}), *kv_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "token 0: position 16 is beyond the context length 16");
  EXPECT_EQ(seq_->n_positions(), 16);
}

TEST_F(ForwardBadBatchTest, PositionsMustContinueTheSequence) {
  EXPECT_NE(error_of(batch({{.id = 1, .pos = 1}})).find("does not follow"), std::string::npos);
  EXPECT_NE(error_of(batch({{.id = 1}, {.id = 1, .pos = 2}})).find("does not follow"),
            std::string::npos);
  EXPECT_NE(error_of(batch({{.id = 1}, {.id = 1}})).find("does not follow"), std::string::npos);
}

TEST_F(ForwardBadBatchTest, BlocksAndSequencesMustBeValid) {
  EXPECT_EQ(error_of(batch({})), "empty batch");
  EXPECT_NE(error_of(batch({{.id = 1, .seq = 1}})).find("not in the batch"), std::string::npos);
  // Position 16 needs a fifth block that was never reserved (n_ctx allows 16).
  seq_->truncate(0);
  ASSERT_TRUE(seq_->reserve(3));
  std::vector<BatchToken> five;
  for (int i = 0; i < 5; ++i) five.push_back({.id = 1, .pos = i});
  EXPECT_NE(error_of(batch(five)).find("position 4 of sequence 0 has no KV block"),
            std::string::npos);
  // The same sequence twice.
  Batch twice = batch({{.id = 1}});
  twice.seqs.push_back(seq_.get());
  EXPECT_NE(error_of(twice).find("same KvSequence"), std::string::npos);
  // A block shared with another sequence is read-only.
  other_ = std::make_unique<KvSequence>(*kv_);
  other_->append_full_block(seq_->blocks()[0].share());
  EXPECT_NE(error_of(batch({{.id = 1}})).find("shared KV block"), std::string::npos);
}

TEST_F(ForwardBadBatchTest, CacheOfAnotherModelOrAnotherCache) {
  auto wrong = model_->kv_cache_options(4, 4);
  wrong.head_dim_k = 16;
  auto kv2 = std::move(KvCache::create(wrong).value());
  KvSequence s2(*kv2);
  ASSERT_TRUE(s2.reserve(1));
  Batch b;
  b.seqs = {&s2};
  b.tokens = {{.id = 1}};
  auto r = model_->forward(b, *kv2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("geometry"), std::string::npos);
  auto kv3 = std::move(KvCache::create(model_->kv_cache_options(4, 4)).value());
  EXPECT_NE(model_->forward(batch({{.id = 1}}), *kv3).message().find("another KV cache"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::model
