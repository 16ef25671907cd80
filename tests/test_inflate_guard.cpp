// layout/inflate_guard: Flate streams are inflated through all their layers up to a cap;
// ordinary streams (low ratio) stop early, other filters and damaged data are left alone.
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "layout/inflate_guard.h"

using docling::layout::find_inflate_bomb;

namespace {

std::string deflate(const std::string& in) {
  uLongf n = compressBound(uLong(in.size()));
  std::string out(n, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(in.data()),
                      uLong(in.size()), 9), Z_OK);
  out.resize(n);
  return out;
}

std::string pdf_with_stream(const std::string& filter, const std::string& data, int object = 7) {
  return "%PDF-1.7\n" + std::to_string(object) + " 0 obj\n<< /Length " + std::to_string(data.size()) + " /Filter " +
         filter + " /DecodeParms << /Columns 1 >> >>\nstream\n" + data + "\nendstream\nendobj\n%%EOF\n";
}

std::optional<docling::layout::InflateBomb> check(const std::string& pdf, uint64_t cap) {
  return find_inflate_bomb(reinterpret_cast<const uint8_t*>(pdf.data()), pdf.size(), cap);
}

constexpr uint64_t kCap = uint64_t(4) << 20;

}  // namespace

TEST(InflateGuard, OneLayerPastTheCapIsFoundWithItsObject) {
  std::string pdf = pdf_with_stream("/FlateDecode", deflate(std::string(8 << 20, '\0')), 12);
  auto bomb = check(pdf, kCap);
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->object, 12);
  EXPECT_EQ(bomb->cap, kCap);
  EXPECT_FALSE(check(pdf, uint64_t(16) << 20));  // under a larger cap it is an ordinary stream
}

TEST(InflateGuard, NestedLayersCountTheirOutput) {
  std::string twice = deflate(deflate(std::string(8 << 20, 'a')));
  EXPECT_TRUE(check(pdf_with_stream("[/FlateDecode /FlateDecode]", twice), kCap));
  EXPECT_TRUE(check(pdf_with_stream("[ /Fl /Fl ]", twice), kCap));
  // Declared as one layer, the first layer's output is small: nothing to refuse.
  EXPECT_FALSE(check(pdf_with_stream("/FlateDecode", twice), kCap));
}

TEST(InflateGuard, OrdinaryStreamsAndOtherFiltersPass) {
  std::mt19937 rng(5);
  std::string noise(6 << 20, '\0');
  for (char& c : noise) c = char(rng());
  EXPECT_FALSE(check(pdf_with_stream("/FlateDecode", deflate(noise)), kCap));  // ratio ~1: probed, not inflated whole
  std::string zeros = deflate(std::string(8 << 20, '\0'));
  EXPECT_FALSE(check(pdf_with_stream("/DCTDecode", zeros), kCap));
  EXPECT_FALSE(check(pdf_with_stream("[/ASCIIHexDecode /FlateDecode]", zeros), kCap));  // not a leading Flate layer
  EXPECT_FALSE(check(pdf_with_stream("/FlateDecode", "\x01\x02garbage, or encrypted bytes"), kCap));
  EXPECT_FALSE(check("%PDF-1.7\nstream\nno dictionary\nendstream", kCap));
  EXPECT_FALSE(check("", kCap));
}
