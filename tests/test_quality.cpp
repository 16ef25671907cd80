// Model-page quality: token confidence per item and page, and the check of text items against
// the PDF's text layer (pipeline/quality.h), on docling's own DocTags of a real page and on a
// real conversion with the tiny checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "docling/docling.hpp"
#include "doctags/parser.h"
#include "layout/pdf.h"
#include "layout/text_layer.h"
#include "pipeline/quality.h"
#include "pipeline/vlm.h"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const fs::path kData = DOCLING_TEST_DATA;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Quality, EditDistance) {
  EXPECT_EQ(normalized_edit_distance("same text", "same  text\n"), 0.0);  // whitespace runs count once
  EXPECT_EQ(normalized_edit_distance("", ""), 0.0);
  EXPECT_EQ(normalized_edit_distance("abc", ""), 1.0);
  EXPECT_NEAR(normalized_edit_distance("kitten", "sitting"), 3.0 / 7.0, 1e-12);
  EXPECT_NEAR(normalized_edit_distance("héllo", "hello"), 1.0 / 5.0, 1e-12);  // code points, not bytes
}

TEST(Quality, ConfidenceAndGrades) {
  std::vector<float> lp = {std::log(0.95f), std::log(0.95f), std::log(0.2f)};
  Confidence all = confidence_of(lp, 0, 2), first = confidence_of(lp, 0, 1);
  EXPECT_EQ(all.tokens, 3);
  EXPECT_NEAR(all.min_logprob, std::log(0.2), 1e-6);
  EXPECT_STREQ(first.grade(), "excellent");
  EXPECT_STREQ(all.grade(), "fair");  // geometric mean 0.56
  EXPECT_STREQ(confidence_of({std::log(0.85f)}, 0, 0).grade(), "good");
  EXPECT_STREQ(confidence_of({std::log(0.3f)}, 0, 0).grade(), "poor");
  EXPECT_EQ(confidence_of({}, 0, 0).tokens, 0);
}

// Items are attributed to the tokens from the previous item's close to their own.
TEST(Quality, ItemsGetTheTokensThatMadeThem) {
  Document doc;
  DocTagsParser parser(doc);
  parser.begin_page(nullptr, Size{500, 500});
  ItemWatch watch;
  const std::vector<std::string> tokens = {"<doctag>", "<section_header_level_1>", "<loc_1><loc_2><loc_30><loc_8>",
                                           "Intro", "</section_header_level_1>", "<text>", "<loc_1><loc_10><loc_90><loc_20>",
                                           "Some", " words", "</text>", "</doctag>"};
  for (size_t i = 0; i < tokens.size(); ++i) {
    parser.feed(tokens[i]);
    watch.after_token(doc, i);
  }
  parser.finish();
  ASSERT_EQ(watch.spans().size(), 2u);
  EXPECT_EQ(watch.spans()[0].item, (Ref{RefKind::Text, 0}));
  EXPECT_EQ(watch.spans()[0].first, 0u);
  EXPECT_EQ(watch.spans()[0].last, 4u);
  EXPECT_EQ(watch.spans()[1].first, 5u);
  EXPECT_EQ(watch.spans()[1].last, 9u);
  std::vector<float> lp(tokens.size(), std::log(0.99f));
  lp[7] = std::log(0.1f);  // the model hesitated inside the text item
  Confidence page = annotate_confidence(doc, lp, watch.spans());
  EXPECT_EQ(page.tokens, int(tokens.size()));
  EXPECT_EQ(doc.texts[0].meta["docling_cpp__confidence"]["grade"], "excellent");
  EXPECT_NEAR(doc.texts[1].meta["docling_cpp__confidence"]["min_logprob"].get<double>(), std::log(0.1), 1e-3);
  EXPECT_NE(doc.texts[1].meta["docling_cpp__confidence"]["grade"], "excellent");
}

// docling's own DocTags of a real page agree with that page's text layer; a text that the
// model got wrong (here: replaced) is flagged, and only that one.
TEST(Quality, TextLayerCheckFlagsWhatDisagrees) {
  const fs::path pdf = kData / "pdfs" / "2305.03393v1-pg9.pdf";
  auto src = open_source(pdf.string());
  TextPage text = read_text_page(*src, 1);
  Document doc;
  DocTagsParser parser(doc);
  parser.begin_page(nullptr, Size{text.width, text.height});
  parser.feed(slurp(kData / "pdfs" / "2305.03393v1-pg9.doctags"));
  parser.finish();
  ASSERT_GT(doc.texts.size(), 5u);
  TextLayerCheck clean = check_text_layer(doc, text, 1, 1);
  EXPECT_GE(clean.checked, 5);
  EXPECT_TRUE(clean.suspects.empty()) << clean.suspects.size() << " suspects, first " << clean.suspects[0].pointer();
  Document wrong = doc;
  size_t victim = 0;
  for (size_t i = 0; i < wrong.texts.size(); ++i)
    if (wrong.texts[i].text.size() > 100) victim = i;
  wrong.texts[victim].text = "The committee approved the budget for the new library after a long debate.";
  for (TextItem& t : wrong.texts) t.meta = nullptr;
  TextLayerCheck bad = check_text_layer(wrong, text, 1, 1);
  ASSERT_EQ(bad.suspects.size(), 1u);
  EXPECT_EQ(bad.suspects[0], (Ref{RefKind::Text, int(victim)}));
  EXPECT_TRUE(wrong.texts[victim].meta["docling_cpp__text_layer"]["suspect"].get<bool>());
  EXPECT_GT(wrong.texts[victim].meta["docling_cpp__text_layer"]["distance"].get<double>(), 0.4);
}

// Through the engine: a model page has a quality record, its items carry confidence in the
// JSON, and the Markdown does not show docling-cpp's annotations. The tiny random model
// writes nonsense, so its text cannot match the text layer wherever it gives a box.
TEST(Quality, ModelPagesReportConfidence) {
  EngineOptions eo = engine_defaults();
  eo.model_dir = (kData / "oracle" / "tiny-idefics3").string();
  eo.max_new_tokens = 96;
  Engine engine(eo);
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Vlm;
  c.pages = "1";
  c.max_new_tokens = 96;
  int streamed = 0;
  c.on_page = [&](const PageResult& p) {
    ++streamed;
    EXPECT_TRUE(p.from_model);
    EXPECT_FALSE(p.quality.grade.empty());
  };
  ConvertResult r = engine.convert(kData / "pdfs" / "2305.03393v1-pg9.pdf", c);
  ASSERT_NE(r.status, Status::Failure);
  EXPECT_EQ(streamed, 1);
  ASSERT_EQ(r.quality.size(), 1u);
  const PageQuality& q = r.quality[0];
  EXPECT_EQ(q.page, 1);
  EXPECT_LE(q.mean_logprob, 0.0);
  EXPECT_LE(q.min_logprob, q.mean_logprob);
  EXPECT_NEAR(q.score, std::exp(q.mean_logprob), 1e-9);
  EXPECT_FALSE(q.grade.empty());
  EXPECT_EQ(q.suspects.size() > 0, q.checked_items > 0);  // nonsense never matches the layer
  std::string json = r.document.to_json();
  if (r.document.items().size() > 0) {
    EXPECT_NE(json.find("docling_cpp__confidence"), std::string::npos);
  }
  EXPECT_EQ(r.document.to_markdown().find("docling_cpp"), std::string::npos);
  // Chunks cite their items with the same annotations.
  ChunkOptions co;
  co.chunker = Chunker::Hierarchical;
  for (const Chunk& ch : r.document.chunk(co)) EXPECT_NE(ch.json.find("docling_cpp__confidence"), std::string::npos);
}

// A model page through the page stages with the tiny checkpoint, its output replaced by DocTags
// whose first text matches the page and whose second was misread: the misread one, and only
// it, is flagged; every item gets the confidence of the tokens that wrote it.
TEST(Quality, MisreadTextOnAModelPageIsFlagged) {
  auto engine = VlmEngine::load((kData / "oracle" / "tiny-idefics3").string());
  auto src = open_source((kData / "pdfs" / "2305.03393v1-pg9.pdf").string());
  VlmOptions o;
  VlmPage p;
  p.page_no = 1;
  vlm_render(*src, 1, *engine, o, p);
  ASSERT_TRUE(p.text.has_value());
  vision::GenerateOptions g = vlm_begin_generate(*engine, o, p);
  const std::string doctags =
      "<doctag><section_header_level_1><loc_110><loc_107><loc_260><loc_113>5.1 Hyper Parameter "
      "Optimization</section_header_level_1><text><loc_110><loc_321><loc_216><loc_327>Seven wolves crossed the "
      "frozen lake at dawn</text></doctag>";
  vision::GenerateResult r;
  for (int32_t id : engine->tokenizer().encode(doctags)) {
    g.on_token(id);
    r.tokens.push_back(id);
    r.logprobs.push_back(r.tokens.size() % 7 ? -0.01f : -2.0f);
  }
  vlm_end_generate(o, p, std::move(r));
  ASSERT_EQ(p.doc.texts.size(), 2u);
  EXPECT_EQ(p.layer_check.checked, 2);
  ASSERT_EQ(p.layer_check.suspects.size(), 1u);
  EXPECT_EQ(p.layer_check.suspects[0], (Ref{RefKind::Text, 1}));
  EXPECT_FALSE(p.doc.texts[0].meta["docling_cpp__text_layer"]["suspect"].get<bool>());
  for (const TextItem& t : p.doc.texts) EXPECT_GT(t.meta["docling_cpp__confidence"]["tokens"].get<int>(), 3);
  EXPECT_LT(p.confidence.min_logprob, -1.9);
  EXPECT_EQ(p.confidence.tokens, int(p.tokens.size()));
}
