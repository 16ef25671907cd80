// Memory-mapped reader for the safetensors format (Hugging Face).
//
// Layout: 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the data region; offsets are relative to the start of the data region.
//
// Takes: a file path. Gives: read-only views into the mapped file (no copy). The views
// stay valid as long as the SafeTensors object that produced them lives (moving it keeps
// the mapping). Every error is a std::runtime_error naming the file (and tensor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/half.h"

namespace docling::vision {

enum class DType : uint8_t { BF16, F16, F32, F64, I32, I64, U8, I8, BOOL };

const char* dtype_name(DType t);
size_t dtype_size(DType t);

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // into the mapping; aligned only as the file aligns it
  size_t nbytes = 0;

  int64_t numel() const;
  std::string shape_str() const;  // "[1024, 64]"
};

class SafeTensors {
 public:
  SafeTensors() = default;
  // Maps `path` and validates the header (sizes, dtypes, offsets inside the file).
  static SafeTensors open(const std::string& path);

  SafeTensors(SafeTensors&& o) noexcept;
  SafeTensors& operator=(SafeTensors&& o) noexcept;
  SafeTensors(const SafeTensors&) = delete;
  SafeTensors& operator=(const SafeTensors&) = delete;
  ~SafeTensors();

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorView* find(const std::string& name) const;  // nullptr when absent
  // Throws "<file>: tensor '<name>' not found".
  const TensorView& get(const std::string& name) const;
  // Also checks the shape; throws "<file>: tensor '<name>' has shape [..], expected [..]".
  const TensorView& get(const std::string& name, const std::vector<int64_t>& shape) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Copies a tensor into f32 (BF16/F16/F32/F64/I32/U8 accepted).
  std::vector<float> to_f32(const TensorView& t) const;
  std::vector<float> to_f32(const std::string& name) const { return to_f32(get(name)); }

 private:
  void release();

  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace docling::vision
