#include "vision/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/json_limits.h"

namespace docling::vision {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

bool parse_dtype(const std::string& s, DType* out) {
  static const struct { const char* name; DType t; } table[] = {
      {"BF16", DType::BF16}, {"F16", DType::F16}, {"F32", DType::F32}, {"F64", DType::F64},
      {"I32", DType::I32},   {"I64", DType::I64}, {"U8", DType::U8},   {"I8", DType::I8},
      {"BOOL", DType::BOOL},
  };
  for (const auto& e : table)
    if (s == e.name) {
      *out = e.t;
      return true;
    }
  return false;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

const char* dtype_name(DType t) {
  switch (t) {
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
    case DType::I8: return "I8";
    case DType::BOOL: return "BOOL";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::BF16: case DType::F16: return 2;
    case DType::F32: case DType::I32: return 4;
    case DType::F64: case DType::I64: return 8;
    case DType::U8: case DType::I8: case DType::BOOL: return 1;
  }
  return 0;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorView::shape_str() const { return shape_string(shape); }

SafeTensors SafeTensors::open(const std::string& path) {
  SafeTensors st;
  st.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat sb {};
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    fail(path, std::string("cannot stat: ") + std::strerror(e));
  }
  size_t size = size_t(sb.st_size);
  if (size < 8) {
    ::close(fd);
    fail(path, "not a safetensors file (" + std::to_string(size) + " bytes, truncated?)");
  }
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) fail(path, std::string("mmap failed: ") + std::strerror(errno));
  st.map_ = m;
  st.map_size_ = size;

  const auto* bytes = static_cast<const uint8_t*>(m);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | bytes[i];
  if (hlen > size - 8)
    fail(path, "header length " + std::to_string(hlen) + " exceeds file size " +
                   std::to_string(size) + " (truncated or not safetensors)");
  nlohmann::json header;
  try {
    header = parse_json(std::string_view(reinterpret_cast<const char*>(bytes) + 8, hlen));
  } catch (const std::exception& e) {
    fail(path, std::string("invalid safetensors header JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "safetensors header is not a JSON object");

  const uint8_t* data = bytes + 8 + hlen;
  size_t data_size = size - 8 - hlen;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail(path, "__metadata__ is not an object");
      for (auto m2 = v.begin(); m2 != v.end(); ++m2)
        st.metadata_[m2.key()] = m2.value().is_string() ? m2.value().get<std::string>() : m2.value().dump();
      continue;
    }
    auto bad = [&](const std::string& what) { fail(path, "tensor '" + name + "': " + what); };
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      bad("entry needs dtype, shape and data_offsets");
    TensorView t;
    t.name = name;
    if (!v["dtype"].is_string() || !parse_dtype(v["dtype"].get<std::string>(), &t.dtype))
      bad("unsupported dtype " + v["dtype"].dump());
    const auto& shp = v["shape"];
    if (!shp.is_array()) bad("shape is not an array");
    uint64_t numel = 1;
    for (const auto& d : shp) {
      if (!d.is_number_unsigned()) bad("bad shape " + shp.dump());
      uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > (uint64_t(1) << 50) / dim) bad("shape too large " + shp.dump());
      numel *= dim;
      t.shape.push_back(int64_t(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad("bad data_offsets " + off.dump());
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size)
      bad("data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] outside the data (" +
          std::to_string(data_size) + " bytes; file truncated?)");
    if (e - b != numel * dtype_size(t.dtype))
      bad("byte size " + std::to_string(e - b) + " does not match " + std::string(dtype_name(t.dtype)) +
          " " + shape_string(t.shape));
    t.data = data + b;
    t.nbytes = size_t(e - b);
    st.tensors_.emplace(name, std::move(t));
  }
  return st;
}

SafeTensors::SafeTensors(SafeTensors&& o) noexcept { *this = std::move(o); }

SafeTensors& SafeTensors::operator=(SafeTensors&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    map_ = o.map_;
    map_size_ = o.map_size_;
    tensors_ = std::move(o.tensors_);
    metadata_ = std::move(o.metadata_);
    o.map_ = nullptr;
    o.map_size_ = 0;
  }
  return *this;
}

SafeTensors::~SafeTensors() { release(); }

void SafeTensors::release() {
  if (map_) munmap(map_, map_size_);
  map_ = nullptr;
  map_size_ = 0;
}

const TensorView* SafeTensors::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorView& SafeTensors::get(const std::string& name) const {
  const TensorView* t = find(name);
  if (!t) fail(path_, "tensor '" + name + "' not found");
  return *t;
}

const TensorView& SafeTensors::get(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorView& t = get(name);
  if (t.shape != shape)
    fail(path_, "tensor '" + name + "' has shape " + t.shape_str() + ", expected " + shape_string(shape));
  return t;
}

std::vector<float> SafeTensors::to_f32(const TensorView& t) const {
  size_t n = size_t(t.numel());
  std::vector<float> out(n);
  const auto* p = static_cast<const uint8_t*>(t.data);
  // Byte-wise loads: the file need not align tensors to their element size.
  auto ld16 = [&](size_t i) { uint16_t v; std::memcpy(&v, p + 2 * i, 2); return v; };
  switch (t.dtype) {
    case DType::BF16: for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(ld16(i)); break;
    case DType::F16: for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(ld16(i)); break;
    case DType::F32: if (n) std::memcpy(out.data(), p, 4 * n); break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) { double d; std::memcpy(&d, p + 8 * i, 8); out[i] = float(d); }
      break;
    case DType::I32:
      for (size_t i = 0; i < n; ++i) { int32_t d; std::memcpy(&d, p + 4 * i, 4); out[i] = float(d); }
      break;
    case DType::U8: case DType::BOOL: for (size_t i = 0; i < n; ++i) out[i] = p[i]; break;
    default: fail(path_, "tensor '" + t.name + "': cannot convert " + dtype_name(t.dtype) + " to f32");
  }
  return out;
}

}  // namespace docling::vision
