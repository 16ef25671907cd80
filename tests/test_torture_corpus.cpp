// Library-level cases from the torture corpus (tests/torture/make_corpus.py; the whole corpus runs
// through the CLI in Torture.Corpus): crashes found there, each reproduced from bytes written here.
#include <gtest/gtest.h>
#include <pthread.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "layout/pdf.h"

using namespace docling;
namespace fs = std::filesystem;

namespace {

// A one-page PDF whose page draws form 1, form i draws form i+1, and the last form shows
// "Innermost" in Helvetica (as nest_forms_N.pdf in the corpus).
std::string nested_forms_pdf(int depth) {
  std::string out = "%PDF-1.4\n";
  std::vector<size_t> offs;
  auto obj = [&](const std::string& body) {
    offs.push_back(out.size());
    out += std::to_string(offs.size()) + " 0 obj\n" + body + "\nendobj\n";
  };
  auto stream = [](const std::string& dict, const std::string& data) {
    return "<< " + dict + " /Length " + std::to_string(data.size()) + " >>\nstream\n" + data + "\nendstream";
  };
  const int first = 4;  // 1 catalog, 2 pages, 3 font, then the forms, the content, the page
  obj("<< /Type /Catalog /Pages 2 0 R >>");
  obj("<< /Type /Pages /Kids [" + std::to_string(first + depth + 1) + " 0 R] /Count 1 >>");
  obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  const std::string form = "/Type /XObject /Subtype /Form /BBox [0 0 612 792] ";
  for (int i = 0; i < depth; ++i) {
    if (i + 1 < depth)
      obj(stream(form + "/Resources << /XObject << /X " + std::to_string(first + i + 1) + " 0 R >> >>", "/X Do"));
    else
      obj(stream(form + "/Resources << /Font << /F1 3 0 R >> >>", "BT /F1 12 Tf 72 700 Td (Innermost) Tj ET"));
  }
  obj(stream("", "q /X Do Q BT /F1 12 Tf 72 100 Td (Outside) Tj ET"));
  obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> /XObject << /X " +
      std::to_string(first) + " 0 R >> >> /Contents " + std::to_string(first + depth) + " 0 R >>");
  size_t xref = out.size();
  out += "xref\n0 " + std::to_string(offs.size() + 1) + "\n0000000000 65535 f \n";
  char buf[32];
  for (size_t o : offs) {
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", o);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(offs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

struct WordsJob {
  const PageSource* src;
  std::vector<TextWord> words;
  std::string error;
};

// words(1) on a thread with a 1 MiB stack: smaller than a TBB worker's, so the test does not
// depend on the stack of whoever calls it.
std::vector<TextWord> words_on_small_stack(const PageSource& src, std::string* error) {
  WordsJob job{&src, {}, {}};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t(1) << 20);
  pthread_t th;
  auto body = [](void* p) -> void* {
    WordsJob* j = static_cast<WordsJob*>(p);
    try {
      j->words = j->src->words(1);
    } catch (const std::exception& e) {
      j->error = e.what();
    }
    return nullptr;
  };
  EXPECT_EQ(pthread_create(&th, &attr, body, &job), 0);
  pthread_attr_destroy(&attr);
  pthread_join(th, nullptr);
  *error = job.error;
  return job.words;
}

}  // namespace

// nest_forms_60000.pdf ended the whole batch with SIGSEGV: Poppler's font scan (the text layer
// with font names) recursed once per level on the caller's stack. The words of every level come
// back, with their fonts, from a caller with a small stack.
TEST(TortureCorpus, DeeplyNestedFormsReadOnASmallStack) {
  const fs::path file = fs::temp_directory_path() / ("docling_torture_nest_" + std::to_string(::getpid()) + ".pdf");
  for (int depth : {100, 20000, 60000, -60000}) {  // negative: the same read from a file, not from memory
    std::string pdf = nested_forms_pdf(std::abs(depth));
    std::unique_ptr<PageSource> src;
    if (depth > 0) {
      src = open_source_bytes(std::vector<uint8_t>(pdf.begin(), pdf.end()), "nest_forms.pdf");
    } else {
      std::ofstream(file, std::ios::binary) << pdf;
      src = open_source(file.string());
    }
    ASSERT_EQ(src->page_count(), 1);
    std::string error;
    std::vector<TextWord> ws = words_on_small_stack(*src, &error);
    EXPECT_EQ(error, "") << depth;
    std::string text;
    bool font = false;
    for (const TextWord& w : ws) {
      text += w.text + " ";
      font = font || w.font_name == "Helvetica";
    }
    EXPECT_NE(text.find("Outside"), std::string::npos) << depth << ": " << text;
    EXPECT_TRUE(font) << depth << ": the font names are read";
  }
  fs::remove(file);
}
