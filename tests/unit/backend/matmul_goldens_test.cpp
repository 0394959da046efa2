// matmul against llama.cpp's kernel goldens (../shared/data/goldens/kernels,
// copied to tests/data/backend/kernels by scripts/make_quant_testdata.py):
// y = W x for the tiny-llama attn_k (64 x 256) and ffn_down (256 x 768)
// tensors, 1 and 16 tokens.
//
// Tolerances, relative to max |y| of the case:
// * `_y_` files (ggml_mul_mat): 2e-6. We quantize activations exactly as
//   ggml does (same Q8_0 / Q8_K integers), so only the order of float
//   additions differs: measured differences are below 6e-7 (float32 epsilon
//   is 1.2e-7; a few hundred additions of terms up to |y|). F16 and BF16 are
//   the exception: ggml rounds the activations to F16 / BF16 first and we do
//   not, so there we hold the `_exact` bound below and check that our
//   distance to ggml stays within the distance ggml itself has from exact
//   (the manifest's max_abs_diff_llamacpp_vs_exact) plus 1e-5.
// * `_exact` files (float64 product of dequantized W and unrounded x): the
//   error of quantizing x, which the manifest measured for ggml; we must be
//   within 1.5x of ggml's distance (same quantization) and, for float
//   weights, within 1e-5 relative (float32 accumulation only).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "backend/cpu/matmul.h"
#include "quant_test_util.h"
#include "test_paths.h"

namespace kiln::backend {
namespace {

std::vector<float> read_floats(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << p;
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << p;
  return {std::istreambuf_iterator<char>(in), {}};
}

// max_abs_diff_llamacpp_vs_exact from the copied manifest (index.json).
double ggml_vs_exact(const std::string& type, const std::string& tensor, const std::string& n) {
  std::ifstream in(test::data_dir() / "backend" / "kernels" / "index.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  // a tiny targeted scan: "<type>": { ... "<tensor>": { ... "<n>": value
  size_t at = s.find("\"" + type + "\": {");
  at = s.find("\"" + tensor + "\": {", at);
  at = s.find("\"" + n + "\": ", at);
  EXPECT_NE(at, std::string::npos) << type << " " << tensor << " " << n;
  return std::stod(s.substr(at + n.size() + 4));
}

struct Case {
  const char* type;
  DType dtype;
};

class MatmulGoldens : public ::testing::TestWithParam<Case> {};

TEST_P(MatmulGoldens, CloseToLlamaCpp) {
  const std::string type = GetParam().type;
  const DType dt = GetParam().dtype;
  const bool float_weights = dt == DType::kF32 || dt == DType::kF16 || dt == DType::kBF16;
  const auto dir = test::data_dir() / "backend" / "kernels";
  cpu::ThreadPool pool(2);
  struct Tensor {
    const char* name;
    int64_t rows, cols;
  };
  for (const Tensor& tensor : {Tensor{"attn_k", 64, 256}, Tensor{"ffn_down", 256, 768}}) {
    const auto bytes = read_bytes(dir / type / (std::string(tensor.name) + ".weight"));
    const cpu::WeightMatrix w = testing::weight_view(dt, tensor.rows, tensor.cols, bytes);
    ASSERT_EQ(static_cast<int64_t>(bytes.size()), cpu::packed_weight_bytes(w));
    for (int n : {1, 16}) {
      std::string ns = "n";
      ns += std::to_string(n);
      std::string x_file = "x_k";
      x_file += std::to_string(tensor.cols) + "_" + ns + ".bin";
      const auto x = read_floats(dir / x_file);
      const auto y_ggml =
          read_floats(dir / type / (std::string(tensor.name) + "_y_" + ns + ".bin"));
      const auto y_exact =
          read_floats(dir / type / (std::string(tensor.name) + "_y_" + ns + "_exact.bin"));
      ASSERT_EQ(x.size(), static_cast<size_t>(n * tensor.cols));
      ASSERT_EQ(y_ggml.size(), static_cast<size_t>(n * tensor.rows));
      std::vector<float> y(y_ggml.size());
      cpu::matmul(w, x.data(), tensor.cols, n, y.data(), tensor.rows, pool);
      double ymax = 0, d_ggml = 0, d_exact = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        ymax = std::max(ymax, std::fabs(static_cast<double>(y_exact[i])));
        d_ggml = std::max(d_ggml, std::fabs(static_cast<double>(y[i]) - y_ggml[i]));
        d_exact = std::max(d_exact, std::fabs(static_cast<double>(y[i]) - y_exact[i]));
      }
      const double ggml_exact = ggml_vs_exact(type, tensor.name, ns);
      const std::string what = type + " " + tensor.name + " " + ns;
      if (float_weights) {
        EXPECT_LE(d_exact, 1e-5 * ymax) << what;
        EXPECT_LE(d_ggml, ggml_exact + 1e-5 * ymax) << what;
      } else {
        EXPECT_LE(d_ggml, 2e-6 * ymax) << what;
        EXPECT_LE(d_exact, 1.5 * ggml_exact) << what;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Goldens, MatmulGoldens,
                         ::testing::Values(Case{"f32", DType::kF32}, Case{"f16", DType::kF16},
                                           Case{"bf16", DType::kBF16}, Case{"q8_0", DType::kQ8_0},
                                           Case{"q4_0", DType::kQ4_0}, Case{"q4_K", DType::kQ4_K},
                                           Case{"q5_K", DType::kQ5_K}, Case{"q6_K", DType::kQ6_K}),
                         [](const auto& info) { return std::string(info.param.type); });

}  // namespace
}  // namespace kiln::backend
