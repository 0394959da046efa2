#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace kiln::model::safetensors {
namespace {

// The safetensors package refuses headers above 100 MB; so do we, before parsing.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Real headers nest 3 deep ({name: {shape: [..]}}); deeper input is refused
// without recursing into it.
constexpr int kMaxJsonDepth = 8;

struct DtypeRow {
  std::string_view name;
  int size;
  std::optional<backend::DType> backend;
};
constexpr DtypeRow kDtypes[] = {
    {"F64", 8, backend::DType::kF64}, {"F32", 4, backend::DType::kF32},
    {"F16", 2, backend::DType::kF16}, {"BF16", 2, backend::DType::kBF16},
    {"I64", 8, backend::DType::kI64}, {"I32", 4, backend::DType::kI32},
    {"I16", 2, backend::DType::kI16}, {"I8", 1, backend::DType::kI8},
    {"U64", 8, std::nullopt},         {"U32", 4, std::nullopt},
    {"U16", 2, std::nullopt},         {"U8", 1, std::nullopt},
    {"BOOL", 1, std::nullopt},        {"F8_E4M3", 1, std::nullopt},
    {"F8_E5M2", 1, std::nullopt},     {"F8_E8M0", 1, std::nullopt},
};

const DtypeRow* find_dtype(std::string_view name) {
  for (const auto& row : kDtypes)
    if (row.name == name) return &row;
  return nullptr;
}

// Reads a non-negative integer that fits int64 from a JSON value.
std::optional<uint64_t> to_index(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return u;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

}  // namespace

std::optional<int> dtype_size(std::string_view dtype) {
  const auto* row = find_dtype(dtype);
  return row ? std::optional<int>(row->size) : std::nullopt;
}

std::optional<backend::DType> to_backend_dtype(std::string_view dtype) {
  const auto* row = find_dtype(dtype);
  return row ? row->backend : std::nullopt;
}

util::Status parse_into(std::span<const std::byte> bytes, SafetensorsFile& out) {
  auto fail = [&](const std::string& msg) { return util::make_error(out.name_ + ": " + msg); };
  if (bytes.size() < 8)
    return fail("file too small to be safetensors (" + std::to_string(bytes.size()) + " bytes)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxHeaderBytes)
    return fail("header length " + std::to_string(header_len) + " is over the 100 MB limit");
  if (header_len > bytes.size() - 8)
    return fail("header length " + std::to_string(header_len) + " runs past the end of the file");
  const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);

  bool too_deep = false, duplicate = false;
  std::string duplicate_key;
  std::set<std::string> keys;
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event,
                                             nlohmann::json& parsed) {
    if (depth > kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    if (event == nlohmann::json::parse_event_t::key && depth == 1) {
      auto k = parsed.get<std::string>();
      if (!keys.insert(k).second && !duplicate) {
        duplicate = true;
        duplicate_key = k;
      }
    }
    return true;
  };
  const auto header =
      nlohmann::json::parse(text, text + header_len, cb, /*allow_exceptions=*/false);
  if (too_deep) return fail("header JSON is nested too deeply");
  if (header.is_discarded()) return fail("header is not valid JSON");
  if (!header.is_object()) return fail("header is not a JSON object");
  if (duplicate) return fail("duplicate tensor name '" + duplicate_key + "'");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_start;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return fail("__metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) return fail("__metadata__ value of '" + k + "' is not a string");
        out.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) return fail(where + " is not an object");
    const auto dt = entry.find("dtype");
    const auto sh = entry.find("shape");
    const auto off = entry.find("data_offsets");
    if (dt == entry.end() || !dt->is_string()) return fail(where + " has no dtype string");
    if (sh == entry.end() || !sh->is_array()) return fail(where + " has no shape array");
    if (off == entry.end() || !off->is_array() || off->size() != 2)
      return fail(where + " has no data_offsets [begin, end]");
    TensorInfo t;
    t.name = name;
    t.dtype = dt->get<std::string>();
    const auto* row = find_dtype(t.dtype);
    if (row == nullptr) return fail(where + " has unknown dtype '" + t.dtype + "'");
    uint64_t n_elements = 1;
    bool overflow = false;
    for (const auto& d : *sh) {
      const auto v = to_index(d);
      if (!v) return fail(where + " has a shape entry that is not a non-negative integer");
      t.shape.push_back(static_cast<int64_t>(*v));
      if (*v != 0 && n_elements > std::numeric_limits<uint64_t>::max() / 16 / *v) overflow = true;
      n_elements *= *v;
    }
    const auto begin = to_index((*off)[0]);
    const auto end = to_index((*off)[1]);
    if (!begin || !end || *begin > *end)
      return fail(where + " has bad data_offsets (need 0 <= begin <= end)");
    if (*end > data_size)
      return fail(where + " data_offsets end " + std::to_string(*end) +
                  " runs past the end of the file (data section has " + std::to_string(data_size) +
                  " bytes)");
    t.begin = *begin;
    t.n_bytes = *end - *begin;
    if (overflow || n_elements * static_cast<uint64_t>(row->size) != t.n_bytes)
      return fail(where + ": data_offsets span " + std::to_string(t.n_bytes) + " bytes but " +
                  t.dtype + " shape needs " +
                  (overflow ? std::string("an absurd number of")
                            : std::to_string(n_elements * static_cast<uint64_t>(row->size))));
    t.data = bytes.data() + data_start + t.begin;
    out.tensors_.push_back(std::move(t));
  }
  auto& ts = out.tensors_;
  std::sort(ts.begin(), ts.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.n_bytes < b.n_bytes;
  });
  for (size_t i = 1; i < ts.size(); ++i) {
    if (ts[i - 1].begin + ts[i - 1].n_bytes > ts[i].begin)
      return fail("tensors '" + ts[i - 1].name + "' and '" + ts[i].name + "' overlap");
  }
  for (size_t i = 0; i < ts.size(); ++i) out.index_.emplace(ts[i].name, i);
  return {};
}

util::Result<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::parse(
    std::span<const std::byte> bytes, std::string name) {
  auto file = std::make_shared<SafetensorsFile>();
  file->name_ = std::move(name);
  if (auto st = parse_into(bytes, *file); !st) return util::make_error(st.message());
  return std::shared_ptr<const SafetensorsFile>(std::move(file));
}

util::Result<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::open(
    const std::filesystem::path& path) {
  auto mapping = MappedFile::open(path);
  if (!mapping) return mapping.error();
  auto file = std::make_shared<SafetensorsFile>();
  file->name_ = path.string();
  if (auto st = parse_into((*mapping)->bytes(), *file); !st) return util::make_error(st.message());
  file->mapping_ = std::move(mapping).value();
  return std::shared_ptr<const SafetensorsFile>(std::move(file));
}

const TensorInfo* SafetensorsFile::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace kiln::model::safetensors
