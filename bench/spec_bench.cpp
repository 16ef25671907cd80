// How many decoder steps would speculative drafts save on real pages?
//
// Teacher forcing, no model: docling's ground-truth DocTags of each page (tests/data/pdfs/
// <name>.doctags, pages split at <page_break>) are tokenized with the real granite-docling
// tokenizer and taken as the model's greedy output. A drafter sees that stream token by
// token; a draft token counts as accepted when it equals the next true token (what
// verification would decide if the model wrote exactly this). Drafters: prompt lookup (the
// page's own earlier output), text layer (the PDF's words inside each element's box, from
// layout/pdf.h), and both.
//
//   bench_spec_bench [--pdfs DIR] [--tokenizer DIR] [--max-draft K] [--out report.json]
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layout/pdf.h"
#include "vision/speculative.h"
#include "vision/tokenizer.h"

namespace fs = std::filesystem;
using namespace docling;
using namespace docling::vision;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error(p.string() + ": cannot read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split_pages(std::string s) {
  for (const char* tag : {"<doctag>", "</doctag>"})
    for (size_t p; (p = s.find(tag)) != std::string::npos;) s.erase(p, std::string(tag).size());
  std::vector<std::string> pages;
  size_t start = 0;
  for (;;) {
    size_t p = s.find("<page_break>", start);
    std::string seg = s.substr(start, p == std::string::npos ? std::string::npos : p - start);
    size_t a = seg.find_first_not_of(" \n\r\t"), b = seg.find_last_not_of(" \n\r\t");
    pages.push_back(a == std::string::npos ? std::string() : seg.substr(a, b - a + 1));
    if (p == std::string::npos) break;
    start = p + 12;
  }
  return pages;
}

// Lower-case alphanumeric words of a text, tags removed (for pairing pages).
std::set<std::string> word_set(const std::string& s) {
  std::set<std::string> out;
  std::string cur;
  bool in_tag = false;
  for (char ch : s) {
    if (ch == '<') in_tag = true;
    if (!in_tag && std::isalnum(static_cast<unsigned char>(ch))) {
      cur += char(std::tolower(static_cast<unsigned char>(ch)));
    } else {
      if (cur.size() > 2) out.insert(cur);
      cur.clear();
    }
    if (ch == '>') in_tag = false;
  }
  if (cur.size() > 2) out.insert(cur);
  return out;
}

struct Counts {
  int64_t pages = 0, tokens = 0, plain = 0, lookup = 0, text_layer = 0, both = 0;
  void add(const Counts& c) {
    pages += c.pages, tokens += c.tokens, plain += c.plain;
    lookup += c.lookup, text_layer += c.text_layer, both += c.both;
  }
  nlohmann::json json() const {
    auto saved = [&](int64_t s) { return tokens ? double(tokens - s) / double(tokens) : 0.0; };
    return {{"pages", pages},
            {"tokens", tokens},
            {"steps_plain", plain},
            {"steps_prompt_lookup", lookup},
            {"steps_text_layer", text_layer},
            {"steps_both", both},
            {"saved_fraction_prompt_lookup", saved(lookup)},
            {"saved_fraction_text_layer", saved(text_layer)},
            {"saved_fraction_both", saved(both)}};
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string pdfs = std::string(DOCLING_TEST_DATA) + "/pdfs";
  std::string tok_dir = std::string(DOCLING_TEST_DATA) + "/models/granite-docling-258M";
  std::string out_path;
  int max_draft = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--pdfs") pdfs = next();
    else if (a == "--tokenizer") tok_dir = next();
    else if (a == "--max-draft") max_draft = std::stoi(next());
    else if (a == "--out") out_path = next();
    else {
      std::fprintf(stderr, "usage: %s [--pdfs DIR] [--tokenizer DIR] [--max-draft K] [--out FILE]\n", argv[0]);
      return a == "--help" ? 0 : 2;
    }
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    Tokenizer tok = Tokenizer::load(tok_dir);
    std::vector<fs::path> docs;
    for (const auto& e : fs::directory_iterator(pdfs))
      if (e.path().extension() == ".doctags" && fs::exists(fs::path(e.path()).replace_extension(".pdf")))
        docs.push_back(e.path());
    std::sort(docs.begin(), docs.end());
    nlohmann::json report = {{"max_draft", max_draft}, {"tokenizer", tok_dir}, {"documents", nlohmann::json::array()}};
    Counts total;
    std::printf("%-24s %5s %7s %7s %7s %7s %7s  saved: lookup text both\n", "document", "pages", "tokens", "plain",
                "lookup", "text", "both");
    for (const fs::path& dt : docs) {
      auto src = open_source(fs::path(dt).replace_extension(".pdf").string());
      std::vector<std::string> segs = split_pages(read_file(dt));
      const int np = src->page_count();
      std::vector<std::vector<TextWord>> words(static_cast<size_t>(np));
      std::vector<std::set<std::string>> page_sets(static_cast<size_t>(np));
      for (int p = 1; p <= np; ++p) {
        words[size_t(p - 1)] = src->words(p);
        std::string all;
        for (const TextWord& w : words[size_t(p - 1)]) all += w.text + " ";
        page_sets[size_t(p - 1)] = word_set(all);
      }
      Counts doc;
      nlohmann::json pages = nlohmann::json::array();
      for (size_t si = 0; si < segs.size(); ++si) {
        // Page of this segment: in order when the counts agree, else the best word overlap
        // (docling leaves no page break for a page without content).
        int page = int(si);
        if (int(segs.size()) != np) {
          std::set<std::string> ws = word_set(segs[si]);
          int best = -1;
          for (int p = 0; p < np; ++p) {
            int ov = 0;
            for (const auto& w : ws) ov += int(page_sets[size_t(p)].count(w));
            if (ov > best) best = ov, page = p;
          }
        }
        if (page >= np) continue;
        Size sz = src->page_size(page + 1);
        std::vector<int32_t> ids = tok.encode("<doctag>" + segs[si] + "</doctag>");
        PromptLookupDrafter pl;
        TextLayerDrafter tl(tok, words[size_t(page)], sz.width, sz.height);
        std::unique_ptr<Drafter> both = make_page_drafter(tok, words[size_t(page)], sz.width, sz.height);
        Counts c;
        c.pages = 1;
        c.tokens = c.plain = int64_t(ids.size());
        c.lookup = simulate_drafts(pl, ids, max_draft);
        c.text_layer = simulate_drafts(tl, ids, max_draft);
        c.both = simulate_drafts(*both, ids, max_draft);
        nlohmann::json pj = c.json();
        pj["page_no"] = page + 1;
        pj["text_layer_words"] = words[size_t(page)].size();
        pj["boxes_with_words"] = tl.boxes_seen();
        pages.push_back(pj);
        doc.add(c);
      }
      total.add(doc);
      nlohmann::json dj = doc.json();
      dj["name"] = dt.stem().string();
      dj["pdf_pages"] = np;
      dj["pages_detail"] = pages;
      report["documents"].push_back(dj);
      auto pct = [&](int64_t s) { return doc.tokens ? 100.0 * double(doc.tokens - s) / double(doc.tokens) : 0.0; };
      std::printf("%-24s %5lld %7lld %7lld %7lld %7lld %7lld  %5.1f%% %5.1f%% %5.1f%%\n", dt.stem().string().c_str(),
                  (long long)doc.pages, (long long)doc.tokens, (long long)doc.plain, (long long)doc.lookup,
                  (long long)doc.text_layer, (long long)doc.both, pct(doc.lookup), pct(doc.text_layer),
                  pct(doc.both));
    }
    report["total"] = total.json();
    report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto pct = [&](int64_t s) { return total.tokens ? 100.0 * double(total.tokens - s) / double(total.tokens) : 0.0; };
    std::printf("%-24s %5lld %7lld %7lld %7lld %7lld %7lld  %5.1f%% %5.1f%% %5.1f%%\n", "TOTAL",
                (long long)total.pages, (long long)total.tokens, (long long)total.plain, (long long)total.lookup,
                (long long)total.text_layer, (long long)total.both, pct(total.lookup), pct(total.text_layer),
                pct(total.both));
    if (!out_path.empty()) {
      std::ofstream f(out_path);
      f << report.dump(2) << "\n";
      if (!f) throw std::runtime_error(out_path + ": cannot write");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spec_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
