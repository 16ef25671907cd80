// A model.safetensors file: header length, JSON header, tensor offsets -> SafeTensors::open, then
// every tensor read through its view (ASan checks the bounds the header claims) and converted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"
#include "vision/safetensors.h"

using namespace docling::vision;

FUZZ_TARGET(safetensors) {
  const std::string path = (fuzz::scratch() / "model.safetensors").string();
  fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    SafeTensors st = SafeTensors::open(path);
    unsigned sum = 0;
    for (const auto& [name, t] : st.tensors()) {
      const uint8_t* p = static_cast<const uint8_t*>(t.data);
      for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];  // every byte the view claims
      t.shape_str();
      t.numel();
      try {
        st.to_f32(t);
      } catch (const std::exception&) {  // a dtype to_f32 refuses
      }
    }
    for (const auto& [k, v] : st.metadata()) sum += unsigned(k.size() + v.size());
    SafeTensors moved = std::move(st);  // the views survive a move
    if (!moved.tensors().empty()) moved.find(moved.tensors().begin()->first);
    (void)sum;
  } catch (const std::exception&) {
  }
  return 0;
}
