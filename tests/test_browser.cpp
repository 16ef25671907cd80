// The HTML output in a real browser: Debian's Chromium, headless, renders the samples' HTML and
// the split-page layout view; a script run in the page measures what is actually laid out
// (headings, table header cells, page images, item boxes) and the test reads its report from
// the DOM. Screenshots stay in the build folder (tests/browser/) for people to look at.
// Skipped, saying so, where Chromium is not installed (.ci/run installs it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "docling/docling.hpp"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const fs::path kSamples = fs::path(DOCLING_TEST_DATA) / ".." / ".." / "samples";

std::string chromium() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(c)) return c;
  return "";
}

// Appended to the page: counts the elements that take space on screen.
const char* kProbe = R"JS(<script>
window.addEventListener('load', () => {
  const shown = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const count = sel => [...document.querySelectorAll(sel)].filter(shown).length;
  const imgs = [...document.querySelectorAll('img')].filter(i => shown(i) && i.complete && i.naturalWidth > 0).length;
  const report = {headings: count('h1,h2,h3,h4,h5,h6'), th: count('th'), td: count('td'), images: imgs,
                  boxes: count('svg.boxes rect'), pages: count('tr.page'), chars: document.body.innerText.length};
  const pre = document.createElement('pre');
  pre.id = 'docling-report';
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
});
</script>)JS";

struct Rendered {
  nlohmann::json report;
  fs::path screenshot;
};

Rendered render(const std::string& html, const std::string& name) {
  fs::path dir = fs::current_path() / "browser";
  fs::create_directories(dir);
  fs::path page = dir / (name + ".html");
  std::string probed = html;
  size_t end = probed.rfind("</body>");
  probed.insert(end == std::string::npos ? probed.size() : end, kProbe);
  std::ofstream(page) << probed;
  fs::path home = docling::testing::temp_dir("browser", name);
  std::string flags = " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                      "--user-data-dir=" + docling::testing::q(home / "profile") + " --virtual-time-budget=10000 ";
  Rendered r;
  r.screenshot = dir / (name + ".png");
  auto run = [&](const std::string& what) {
    return docling::testing::run_cli(chromium(), flags + what + " file://" + page.string(), home, 120);
  };
  docling::testing::CliRun shot = run("--window-size=1280,1600 --screenshot=" + docling::testing::q(r.screenshot));
  EXPECT_TRUE(fs::exists(r.screenshot)) << shot.err.substr(0, 2000);
  docling::testing::CliRun dom = run("--dump-dom");
  std::smatch m;
  if (std::regex_search(dom.out, m, std::regex(R"(<pre id="docling-report">([^<]*)</pre>)")))
    r.report = nlohmann::json::parse(m[1].str());
  else
    ADD_FAILURE() << "no report in the DOM of " << name << ": " << dom.err.substr(0, 2000);
  return r;
}

ConvertResult convert_sample(const std::string& file, int dpi) {
  static Engine engine(engine_defaults());
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Text;
  c.page_image_dpi = dpi;
  ConvertResult r = engine.convert(kSamples / file, c);
  EXPECT_EQ(r.status, Status::Success) << file;
  return r;
}

}  // namespace

TEST(Browser, SampleHtmlShowsHeadingsAndTableHeaders) {
  if (chromium().empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  ConvertResult report = convert_sample("report.pdf", 0);
  Rendered r = render(report.document.export_to(Format::Html), "report");
  ASSERT_TRUE(r.report.is_object());
  EXPECT_GE(r.report["headings"].get<int>(), 5) << r.report;  // title, sections, subsections
  EXPECT_GE(r.report["th"].get<int>(), 3) << r.report;        // the shipments table's header row
  EXPECT_GE(r.report["td"].get<int>(), 12) << r.report;
  EXPECT_GT(r.report["chars"].get<int>(), 1000) << r.report;
  ConvertResult article = convert_sample("article.pdf", 0);
  Rendered a = render(article.document.export_to(Format::Html), "article");
  EXPECT_GE(a.report["headings"].get<int>(), 2) << a.report;
  EXPECT_GE(a.report["th"].get<int>(), 1) << a.report;
}

TEST(Browser, SplitPageViewShowsPageImagesWithBoxes) {
  if (chromium().empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  ConvertResult report = convert_sample("report.pdf", 72);
  ExportOptions o = export_defaults();
  o.html_split_page = true;
  Rendered r = render(report.document.export_to(Format::Html, o), "report_split");
  ASSERT_TRUE(r.report.is_object());
  int pages = report.document.page_count();
  EXPECT_EQ(r.report["pages"].get<int>(), pages) << r.report;
  EXPECT_EQ(r.report["images"].get<int>(), pages) << r.report;  // decoded and laid out
  EXPECT_GE(r.report["boxes"].get<size_t>(), report.document.items().size() / 2) << r.report;
  EXPECT_GE(r.report["headings"].get<int>(), 5) << r.report;
  EXPECT_GE(r.report["th"].get<int>(), 3) << r.report;
  EXPECT_GT(fs::file_size(r.screenshot), 10000u);  // not a blank page
}
