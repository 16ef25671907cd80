// Messages and argument parsing shared by the commands (see cli.hpp).
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace dcli {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char buf[8];
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls (CSI is U+009B), which some terminals act on.
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[++i]));
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

std::string display(const std::filesystem::path& p) { return escape(p.string()); }

namespace {

// Names are escaped where messages are made; this is the second line of defence: whatever
// slips through sends no control character to the terminal (the newlines of a multi-line
// message stay, and escape() leaves escaped text as it is).
void print_message(const char* kind, const std::string& msg) {
  std::string safe;
  for (size_t start = 0; start <= msg.size();) {
    size_t end = std::min(msg.find('\n', start), msg.size());
    if (start) safe += '\n';
    safe += escape(std::string_view(msg).substr(start, end - start));
    start = end + 1;
  }
  std::fprintf(stderr, "docling-cpp: %s: %s\n", kind, safe.c_str());
}

}  // namespace

void print_error(const std::string& msg) { print_message("error", msg); }
void print_warning(const std::string& msg) { print_message("warning", msg); }

namespace {

// CLI11's layout, with our usage line (it says more than "[OPTIONS] [inputs...]").
class Formatter : public CLI::Formatter {
 public:
  explicit Formatter(std::string usage) : usage_(std::move(usage)) {}
  std::string make_description(const CLI::App*) const override { return ""; }
  std::string make_usage(const CLI::App* app, std::string) const override {
    return usage_ + "\n\n" + app->get_description() + "\n";
  }

 private:
  std::string usage_;
};

}  // namespace

void setup_app(CLI::App& app, const std::string& usage_line, const std::string& description) {
  auto fmt = std::make_shared<Formatter>(usage_line);
  fmt->column_width(34);
  app.formatter(fmt);
  app.description(description);
  app.allow_extras(true);  // unknown options are reported by parse(), in our words
}

int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    print_error(escape(e.what()));
    return kExitUsage;
  }
  std::vector<std::string> rest = app.remaining();
  for (const std::string& a : rest)  // an unknown option first: the likelier mistake
    if (a.size() > 1 && a[0] == '-' && a != "--") {
      print_error("unknown option '" + escape(a) + "'");
      return kExitUsage;
    }
  for (const std::string& a : rest)
    if (a != "--") {
      print_error("unexpected argument '" + escape(a) + "'");
      return kExitUsage;
    }
  return -1;
}

long whole_number(const std::string& name, const std::string& v, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || n < lo || n > hi)
    throw UsageError("--" + name + " wants a whole number from " + std::to_string(lo) + " to " +
                     std::to_string(hi) + ", got '" + escape(v) + "'");
  return n;
}

namespace {

// A page number at s[i..]; advances i over its digits. -1 when there is none, -2 past INT_MAX.
long page_number(const std::string& s, size_t& i) {
  long n = 0;
  size_t start = i;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
    if (n >= 0) n = n * 10 + (s[i] - '0') > INT_MAX ? -2 : n * 10 + (s[i] - '0');
  return i == start ? -1 : n;
}

void skip_spaces(const std::string& s, size_t& i) {
  while (i < s.size() && s[i] == ' ') ++i;
}

}  // namespace

std::vector<PageSpan> parse_page_list(const std::string& spec) {
  auto bad = [&](const std::string& why) {
    return UsageError("--pages: " + why + " in '" + escape(spec) + "' (use e.g. 1-3,7 or 5-)");
  };
  std::vector<PageSpan> out;
  size_t i = 0;
  for (;;) {
    skip_spaces(spec, i);
    long first = page_number(spec, i);
    if (first == -2) throw bad("a page number past 2147483647");
    if (first < 0) throw bad("a page number is missing");
    if (first == 0) throw bad("pages count from 1");
    PageSpan span{int(first), int(first)};
    skip_spaces(spec, i);
    if (i < spec.size() && spec[i] == '-') {
      ++i;
      skip_spaces(spec, i);
      long last = page_number(spec, i);
      if (last == -2) throw bad("a page number past 2147483647");
      span.last = last < 0 ? -1 : int(last);
      if (last >= 0 && last < first) throw bad("a range runs backwards");
      skip_spaces(spec, i);
    }
    out.push_back(span);
    if (i == spec.size()) return out;
    if (spec[i] != ',') throw bad(std::string("unexpected '") + escape(std::string(1, spec[i])) + "'");
    ++i;
  }
}

std::vector<int> expand_pages(const std::vector<PageSpan>& spans, int page_count) {
  std::vector<int> pages;
  for (const PageSpan& s : spans) {
    // Only pages the document has (a document without pages keeps each span's first page):
    // the loop is bounded by the document, never by the numbers asked for.
    int64_t end = page_count > 0 ? page_count : s.first;
    int64_t last = s.last < 0 ? end : std::min<int64_t>(s.last, end);
    for (int64_t p = s.first; p <= last; ++p) pages.push_back(int(p));
  }
  if (pages.empty())
    throw UsageError("--pages: no page selected (the document has " + std::to_string(page_count) + " page(s))");
  return pages;
}

}  // namespace dcli
