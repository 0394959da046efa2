#include "model/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "backend/cpu/dtype.h"

namespace kiln::model::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;        // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;  // real files nest at most 2 deep; bounds recursion
// Smallest possible encodings, used to reject counts that cannot fit in what is
// left of the file before anything is allocated for them.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;  // key length, type, a u8 value
constexpr uint64_t kMinTensorInfoBytes =
    8 + 4 + 8 + 4 + 8;  // name len, n_dims, 1 dim, type, offset

// Bytes of one scalar element, or 0 for string/array.
size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool:
      return 1;
    case ValueType::kU16:
    case ValueType::kI16:
      return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32:
      return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
      return 8;
    default:
      return 0;
  }
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::kF64); }

bool is_integer(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kU16:
    case ValueType::kI16:
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kU64:
    case ValueType::kI64:
      return true;
    default:
      return false;
  }
}

uint64_t load_bits(const std::byte* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n);  // little-endian host (x86-64, aarch64)
  return v;
}

// Interprets raw scalar bits of type t as an int64 (nullopt: not an integer or too big).
std::optional<int64_t> bits_to_int(ValueType t, uint64_t b) {
  switch (t) {
    case ValueType::kU8:
      return static_cast<int64_t>(static_cast<uint8_t>(b));
    case ValueType::kI8:
      return static_cast<int64_t>(static_cast<int8_t>(b));
    case ValueType::kU16:
      return static_cast<int64_t>(static_cast<uint16_t>(b));
    case ValueType::kI16:
      return static_cast<int64_t>(static_cast<int16_t>(b));
    case ValueType::kU32:
      return static_cast<int64_t>(static_cast<uint32_t>(b));
    case ValueType::kI32:
      return static_cast<int64_t>(static_cast<int32_t>(b));
    case ValueType::kI64:
      return static_cast<int64_t>(b);
    case ValueType::kU64:
      if (b > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(b);
    default:
      return std::nullopt;
  }
}

std::optional<double> bits_to_float(ValueType t, uint64_t b) {
  if (t == ValueType::kF32) {
    float f;
    const auto u = static_cast<uint32_t>(b);
    std::memcpy(&f, &u, 4);
    return f;
  }
  if (t == ValueType::kF64) {
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  }
  if (t == ValueType::kU64) return static_cast<double>(b);
  if (auto i = bits_to_int(t, b)) return static_cast<double>(*i);
  return std::nullopt;
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::kU8:
      return "u8";
    case ValueType::kI8:
      return "i8";
    case ValueType::kU16:
      return "u16";
    case ValueType::kI16:
      return "i16";
    case ValueType::kU32:
      return "u32";
    case ValueType::kI32:
      return "i32";
    case ValueType::kF32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kU64:
      return "u64";
    case ValueType::kI64:
      return "i64";
    case ValueType::kF64:
      return "f64";
  }
  return "unknown";
}

// ---- Value -----------------------------------------------------------------

std::optional<int64_t> Value::to_int() const { return bits_to_int(type_, bits_); }
std::optional<double> Value::to_float() const { return bits_to_float(type_, bits_); }

std::optional<bool> Value::to_bool() const {
  if (type_ != ValueType::kBool) return std::nullopt;
  return bits_ != 0;
}

std::optional<std::string_view> Value::to_string() const {
  if (type_ != ValueType::kString) return std::nullopt;
  return str_;
}

Value Value::at(size_t i) const {
  if (type_ != ValueType::kArray || i >= count_) return {};
  if (elem_type_ == ValueType::kArray) return items_[i];
  Value v;
  v.type_ = elem_type_;
  if (elem_type_ == ValueType::kString) {
    v.str_ = strings_[i];
  } else {
    const size_t n = scalar_size(elem_type_);
    v.bits_ = load_bits(raw_ + i * n, n);
  }
  return v;
}

std::optional<std::span<const std::string_view>> Value::to_strings() const {
  if (type_ != ValueType::kArray || elem_type_ != ValueType::kString) return std::nullopt;
  return std::span<const std::string_view>(strings_);
}

std::optional<std::vector<float>> Value::to_floats() const {
  if (type_ != ValueType::kArray || scalar_size(elem_type_) == 0 || elem_type_ == ValueType::kBool)
    return std::nullopt;
  std::vector<float> out(count_);
  const size_t n = scalar_size(elem_type_);
  if (elem_type_ == ValueType::kF32) {
    if (count_ > 0) std::memcpy(out.data(), raw_, count_ * 4);
    return out;
  }
  for (size_t i = 0; i < count_; ++i)
    out[i] = static_cast<float>(*bits_to_float(elem_type_, load_bits(raw_ + i * n, n)));
  return out;
}

std::optional<std::vector<int64_t>> Value::to_ints() const {
  if (type_ != ValueType::kArray || !is_integer(elem_type_)) return std::nullopt;
  std::vector<int64_t> out(count_);
  const size_t n = scalar_size(elem_type_);
  for (size_t i = 0; i < count_; ++i) {
    auto v = bits_to_int(elem_type_, load_bits(raw_ + i * n, n));
    if (!v) return std::nullopt;
    out[i] = *v;
  }
  return out;
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // bounded at parse time
  return n;
}

// ---- Parser ----------------------------------------------------------------

class Parser {
 public:
  Parser(std::span<const std::byte> bytes, GgufFile& out) : bytes_(bytes), out_(out) {}

  util::Status run() {
    uint32_t magic = 0, version = 0;
    if (bytes_.size() < 4)
      return fail("file too small to be GGUF (" + std::to_string(bytes_.size()) + " bytes)");
    if (!read_u32(magic, "magic")) return error_;
    if (magic != kMagic) return fail("not a GGUF file (bad magic)");
    if (!read_u32(version, "version")) return error_;
    if (version == 1) return fail("GGUF version 1 is not supported (only versions 2 and 3)");
    if (version != 2 && version != 3) {
      if ((version & 0xffff) == 0) return fail("big-endian GGUF files are not supported");
      return fail("unsupported GGUF version " + std::to_string(version) + " (only 2 and 3)");
    }
    out_.version_ = version;
    uint64_t n_tensors = 0, n_kv = 0;
    if (!read_u64(n_tensors, "tensor count") || !read_u64(n_kv, "metadata count")) return error_;
    if (n_kv > remaining() / kMinKvBytes)
      return fail("metadata count " + std::to_string(n_kv) + " cannot fit in the file");
    if (n_tensors > remaining() / kMinTensorInfoBytes)
      return fail("tensor count " + std::to_string(n_tensors) + " cannot fit in the file");

    out_.kv_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i)
      if (!read_kv(i)) return error_;
    if (!read_alignment()) return error_;

    out_.tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i)
      if (!read_tensor_info(i)) return error_;
    return place_tensors();
  }

 private:
  uint64_t remaining() const { return bytes_.size() - pos_; }

  bool fail_bool(std::string msg) {
    error_ = util::make_error(out_.name_ + ": " + std::move(msg));
    return false;
  }
  util::Status fail(std::string msg) {
    fail_bool(std::move(msg));
    return error_;
  }

  bool need(uint64_t n, const char* what) {
    if (n <= remaining()) return true;
    return fail_bool("truncated file: " + std::string(what) + " at offset " + std::to_string(pos_) +
                     " needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
                     " left");
  }
  bool read_u32(uint32_t& v, const char* what) {
    if (!need(4, what)) return false;
    v = static_cast<uint32_t>(load_bits(bytes_.data() + pos_, 4));
    pos_ += 4;
    return true;
  }
  bool read_u64(uint64_t& v, const char* what) {
    if (!need(8, what)) return false;
    v = load_bits(bytes_.data() + pos_, 8);
    pos_ += 8;
    return true;
  }
  bool read_string(std::string_view& s, const char* what) {
    uint64_t len = 0;
    if (!read_u64(len, what)) return false;
    if (len > remaining())
      return fail_bool(std::string(what) + " length " + std::to_string(len) + " at offset " +
                       std::to_string(pos_ - 8) + " runs past the end of the file");
    s = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return true;
  }

  bool read_value(Value& v, ValueType type, int depth, const std::string& key) {
    v.type_ = type;
    if (type == ValueType::kString) return read_string(v.str_, "string value");
    if (type != ValueType::kArray) {
      const size_t n = scalar_size(type);
      if (!need(n, "scalar value")) return false;
      v.bits_ = load_bits(bytes_.data() + pos_, n);
      pos_ += n;
      return true;
    }
    if (depth >= kMaxArrayDepth)
      return fail_bool("metadata key '" + key + "': arrays nested too deeply");
    uint32_t elem = 0;
    uint64_t count = 0;
    if (!read_u32(elem, "array type") || !read_u64(count, "array length")) return false;
    if (!valid_type(elem))
      return fail_bool("metadata key '" + key + "': unknown array element type " +
                       std::to_string(elem));
    v.elem_type_ = static_cast<ValueType>(elem);
    const size_t n = scalar_size(v.elem_type_);
    const uint64_t min_size = n != 0 ? n : (v.elem_type_ == ValueType::kString ? 8 : 12);
    if (count > remaining() / min_size)
      return fail_bool("metadata key '" + key + "': array length " + std::to_string(count) +
                       " runs past the end of the file");
    v.count_ = count;
    if (n != 0) {
      v.raw_ = bytes_.data() + pos_;
      pos_ += count * n;
    } else if (v.elem_type_ == ValueType::kString) {
      v.strings_.resize(count);
      for (auto& s : v.strings_)
        if (!read_string(s, "string array element")) return false;
    } else {
      v.items_.resize(count);
      // Elements of an array of arrays carry no type tag of their own.
      for (auto& item : v.items_)
        if (!read_value(item, ValueType::kArray, depth + 1, key)) return false;
    }
    return true;
  }

  bool read_kv(uint64_t i) {
    std::string_view key;
    if (!read_string(key, "metadata key")) return false;
    uint32_t type = 0;
    if (!read_u32(type, "metadata value type")) return false;
    const std::string k(key);
    if (!valid_type(type))
      return fail_bool("metadata key '" + k + "' has unknown value type " + std::to_string(type));
    if (out_.kv_index_.count(k) != 0) return fail_bool("duplicate metadata key '" + k + "'");
    Value v;
    if (!read_value(v, static_cast<ValueType>(type), 0, k)) return false;
    out_.kv_index_.emplace(k, i);
    out_.kv_.emplace_back(k, std::move(v));
    return true;
  }

  bool read_alignment() {
    const Value* a = out_.find("general.alignment");
    if (a == nullptr) return true;
    if (a->type() != ValueType::kU32)
      return fail_bool("metadata key 'general.alignment' must be u32, not " +
                       std::string(value_type_name(a->type())));
    const auto v = static_cast<uint64_t>(*a->to_int());
    if (v == 0 || (v & (v - 1)) != 0)
      return fail_bool("general.alignment " + std::to_string(v) + " is not a power of two");
    out_.alignment_ = v;
    return true;
  }

  bool read_tensor_info(uint64_t i) {
    std::string_view name;
    if (!read_string(name, "tensor name")) return false;
    TensorInfo t;
    t.name = std::string(name);
    if (out_.tensor_index_.count(t.name) != 0)
      return fail_bool("duplicate tensor name '" + t.name + "'");
    uint32_t n_dims = 0;
    if (!read_u32(n_dims, "tensor dimension count")) return false;
    if (n_dims == 0 || n_dims > kMaxDims)
      return fail_bool("tensor '" + t.name + "' has " + std::to_string(n_dims) +
                       " dimensions (1 to 4 allowed)");
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = 0;
      if (!read_u64(dim, "tensor dimension")) return false;
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (dim != 0 &&
           n_elements > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(dim)))
        return fail_bool("tensor '" + t.name + "' has an absurd shape (element count overflows)");
      t.ne.push_back(static_cast<int64_t>(dim));
      n_elements *= static_cast<int64_t>(dim);
    }
    if (!read_u32(t.type, "tensor type") || !read_u64(t.offset, "tensor offset")) return false;
    const auto traits = backend::dtype_traits(t.type);
    if (!traits)
      return fail_bool("tensor '" + t.name + "' has unknown type id " + std::to_string(t.type));
    if (t.ne[0] % traits->block_size != 0)
      return fail_bool("tensor '" + t.name + "': row length " + std::to_string(t.ne[0]) +
                       " is not a multiple of the " + std::string(traits->name) + " block size " +
                       std::to_string(traits->block_size));
    // n_elements fits int64 and type_size <= 292 < block_size * 2^8, so this cannot overflow.
    t.n_bytes = static_cast<uint64_t>(n_elements / traits->block_size) *
                static_cast<uint64_t>(traits->type_size);
    if (t.offset % out_.alignment_ != 0)
      return fail_bool("tensor '" + t.name + "' offset " + std::to_string(t.offset) +
                       " is not a multiple of the alignment " + std::to_string(out_.alignment_));
    out_.tensor_index_.emplace(t.name, i);
    out_.tensors_.push_back(std::move(t));
    return true;
  }

  util::Status place_tensors() {
    const uint64_t a = out_.alignment_;
    const uint64_t data_start = (pos_ + a - 1) / a * a;
    auto& ts = out_.tensors_;
    if (ts.empty()) return {};
    if (data_start > bytes_.size())
      return fail("truncated file: tensor data section starts at " + std::to_string(data_start) +
                  " past the end (" + std::to_string(bytes_.size()) + " bytes)");
    const uint64_t data_size = bytes_.size() - data_start;
    for (auto& t : ts) {
      if (t.offset > data_size || t.n_bytes > data_size - t.offset)
        return fail("tensor '" + t.name + "' (offset " + std::to_string(t.offset) + ", " +
                    std::to_string(t.n_bytes) + " bytes) runs past the end of the file");
      t.data = bytes_.data() + data_start + t.offset;
    }
    std::vector<size_t> order(ts.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t x, size_t y) { return ts[x].offset < ts[y].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
      const auto& prev = ts[order[k - 1]];
      const auto& cur = ts[order[k]];
      if (prev.offset + prev.n_bytes > cur.offset)
        return fail("tensors '" + prev.name + "' and '" + cur.name + "' overlap");
    }
    return {};
  }

  std::span<const std::byte> bytes_;
  GgufFile& out_;
  uint64_t pos_ = 0;
  util::Status error_;
};

// ---- GgufFile --------------------------------------------------------------

util::Result<std::shared_ptr<const GgufFile>> GgufFile::open(const std::filesystem::path& path) {
  auto mapping = MappedFile::open(path);
  if (!mapping) return mapping.error();
  auto file = parse((*mapping)->bytes(), path.string());
  if (!file) return file.error();
  auto out = std::const_pointer_cast<GgufFile>(std::move(file).value());
  out->mapping_ = std::move(mapping).value();
  return std::shared_ptr<const GgufFile>(std::move(out));
}

util::Result<std::shared_ptr<const GgufFile>> GgufFile::parse(std::span<const std::byte> bytes,
                                                              std::string name) {
  auto file = std::make_shared<GgufFile>();
  file->name_ = std::move(name);
  file->alignment_ = kDefaultAlignment;
  Parser parser(bytes, *file);
  if (auto st = parser.run(); !st) return util::make_error(st.message());
  return std::shared_ptr<const GgufFile>(std::move(file));
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

template <typename T, typename Get>
util::Result<T> typed_get(const GgufFile& f, std::string_view key, const char* want,
                          const std::optional<T>& fallback, Get get) {
  const Value* v = f.find(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return util::make_error(f.name() + ": metadata key '" + std::string(key) + "' is missing");
  }
  auto r = get(*v);
  if (!r) {
    std::string have(value_type_name(v->type()));
    if (v->type() == ValueType::kArray)
      have += " of " + std::string(value_type_name(v->element_type()));
    return util::make_error(f.name() + ": metadata key '" + std::string(key) + "' should be " +
                            want + ", not " + have);
  }
  return T(*r);
}

}  // namespace

util::Result<std::string_view> GgufFile::get_string(std::string_view key) const {
  return typed_get<std::string_view>(*this, key, "a string", std::nullopt,
                                     [](const Value& v) { return v.to_string(); });
}
util::Result<std::string_view> GgufFile::get_string(std::string_view key,
                                                    std::string_view fallback) const {
  return typed_get<std::string_view>(*this, key, "a string", fallback,
                                     [](const Value& v) { return v.to_string(); });
}
util::Result<int64_t> GgufFile::get_int(std::string_view key) const {
  return typed_get<int64_t>(*this, key, "an integer", std::nullopt,
                            [](const Value& v) { return v.to_int(); });
}
util::Result<int64_t> GgufFile::get_int(std::string_view key, int64_t fallback) const {
  return typed_get<int64_t>(*this, key, "an integer", fallback,
                            [](const Value& v) { return v.to_int(); });
}
util::Result<double> GgufFile::get_float(std::string_view key) const {
  return typed_get<double>(*this, key, "a number", std::nullopt,
                           [](const Value& v) { return v.to_float(); });
}
util::Result<double> GgufFile::get_float(std::string_view key, double fallback) const {
  return typed_get<double>(*this, key, "a number", fallback,
                           [](const Value& v) { return v.to_float(); });
}
util::Result<bool> GgufFile::get_bool(std::string_view key) const {
  return typed_get<bool>(*this, key, "a bool", std::nullopt,
                         [](const Value& v) { return v.to_bool(); });
}
util::Result<bool> GgufFile::get_bool(std::string_view key, bool fallback) const {
  return typed_get<bool>(*this, key, "a bool", fallback,
                         [](const Value& v) { return v.to_bool(); });
}
util::Result<std::span<const std::string_view>> GgufFile::get_strings(std::string_view key) const {
  return typed_get<std::span<const std::string_view>>(
      *this, key, "an array of strings", std::nullopt,
      [](const Value& v) { return v.to_strings(); });
}
util::Result<std::vector<float>> GgufFile::get_floats(std::string_view key) const {
  return typed_get<std::vector<float>>(*this, key, "an array of numbers", std::nullopt,
                                       [](const Value& v) { return v.to_floats(); });
}
util::Result<std::vector<int64_t>> GgufFile::get_ints(std::string_view key) const {
  return typed_get<std::vector<int64_t>>(*this, key, "an array of integers", std::nullopt,
                                         [](const Value& v) { return v.to_ints(); });
}

}  // namespace kiln::model::gguf
