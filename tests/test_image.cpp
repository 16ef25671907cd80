#include <gtest/gtest.h>

#include "core/image.h"

using namespace docling;

TEST(Image, PngRoundTrip) {
  Image img(7, 5);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = uint8_t(i * 37);
  auto bytes = encode_png(img);
  int w = 0, h = 0;
  ASSERT_TRUE(peek_image_size(bytes, &w, &h));
  EXPECT_EQ(w, 7);
  EXPECT_EQ(h, 5);
  Image back = decode_image(bytes);
  EXPECT_EQ(back.rgb, img.rgb);
}

TEST(Image, LoadsOraclePage) {
  Image img = load_image(std::string(DOCLING_TEST_DATA) + "/oracle/page.png");
  EXPECT_EQ(img.width, 1190);
  EXPECT_EQ(img.height, 1684);
}

TEST(Image, CropClips) {
  Image img(10, 10, 0);
  img.row(2)[3 * 3] = 200;
  Image c = img.crop(3, 2, 50, 4);
  EXPECT_EQ(c.width, 7);
  EXPECT_EQ(c.height, 2);
  EXPECT_EQ(c.rgb[0], 200);
}

TEST(Image, RejectsGarbage) {
  std::vector<uint8_t> junk = {1, 2, 3, 4, 5};
  EXPECT_THROW(decode_image(junk, "junk.bin"), ImageError);
  std::vector<uint8_t> bad_png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0};
  EXPECT_THROW(decode_image(bad_png, "bad.png"), ImageError);
  std::vector<uint8_t> bad_jpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0, 2};
  EXPECT_THROW(decode_image(bad_jpeg, "bad.jpg"), ImageError);
}

TEST(Image, Base64) {
  const uint8_t s[] = {'M', 'a', 'n'};
  EXPECT_EQ(base64_encode(s, 3), "TWFu");
  EXPECT_EQ(base64_encode(s, 2), "TWE=");
  EXPECT_EQ(base64_encode(s, 1), "TQ==");
}
