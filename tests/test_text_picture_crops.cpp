// Pictures found by the text-layer backend get their crop of the page image when page images
// are asked for (ConvertOptions::page_image_dpi), as the model's pictures do; without page
// images no page is rendered for them and they have none (issue 16).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "docling/engine.hpp"
#include "pdf_fixtures.h"

using namespace docling;

namespace {

std::string text_at(double x, double y, const std::string& s) {
  return "BT /F1 10 Tf " + std::to_string(x) + " " + std::to_string(y) + " Td (" + s + ") Tj ET\n";
}

std::string chart_page() {
  std::string c;
  for (int i = 0; i < 6; ++i) c += text_at(72, 720 - 12 * i, "The steady river carries a quiet harbor near every village.");
  c += "0.9 g 72 420 300 200 re f 0 g 1 w 72 420 300 200 re S\n";
  c += "0.3 g 90 430 30 120 re f 140 430 30 160 re f 190 430 30 90 re f 0 g\n";
  c += text_at(72, 400, "Figure 1: Bars of the quiet harbor.");
  for (int i = 0; i < 6; ++i) c += text_at(72, 370 - 12 * i, "The steady river carries a quiet harbor near every village.");
  return docling::testing::make_pdf({{"0 0 612 792", c}});
}

nlohmann::json convert_json(const std::string& pdf, int dpi) {
  static Engine engine(engine_defaults());
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Text;
  c.page_image_dpi = dpi;
  ConvertResult r = engine.convert(reinterpret_cast<const uint8_t*>(pdf.data()), pdf.size(), "chart.pdf", c);
  EXPECT_EQ(r.status, Status::Success);
  return nlohmann::json::parse(r.document.to_json());
}

}  // namespace

TEST(TextPictureCrops, PicturesGetTheirCropWithPageImages) {
  std::string pdf = chart_page();
  for (int dpi : {72, 144}) {
    nlohmann::json j = convert_json(pdf, dpi);
    ASSERT_EQ(j["pictures"].size(), 1u);
    const nlohmann::json& pic = j["pictures"][0];
    ASSERT_TRUE(pic.contains("image")) << "dpi " << dpi;
    const nlohmann::json& im = pic["image"];
    EXPECT_EQ(im["dpi"].get<double>(), dpi);
    EXPECT_EQ(im["uri"].get<std::string>().rfind("data:image/png;base64,", 0), 0u);
    // The chart is 300 x 200 pt: its crop that many pixels at 72 dpi, twice at 144.
    double scale = dpi / 72.0;
    EXPECT_NEAR(im["size"]["width"].get<double>(), 300 * scale, 6 * scale);
    EXPECT_NEAR(im["size"]["height"].get<double>(), 200 * scale, 6 * scale);
  }
  nlohmann::json none = convert_json(pdf, 0);
  ASSERT_EQ(none["pictures"].size(), 1u);
  EXPECT_TRUE(!none["pictures"][0].contains("image") || none["pictures"][0]["image"].is_null());
}
