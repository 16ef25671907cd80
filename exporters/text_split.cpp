// semchunk 3.2.5 and docling-core's line chunker, written from the rules in
// tests/data/conformance/chunks/README.md §6.3-6.4. Every piece semchunk joins is a contiguous
// span of its input (split + join with the same splitter gives the span back), so pieces are
// byte ranges and counting a join allocates nothing.
#include "exporters/text_split.h"

#include <algorithm>

#include "core/utf8.h"

namespace docling::chunk {

namespace {

// --- semchunk ---

// semchunk's counter: beyond 6N code points, a prefix of 6N + m - 1 that already exceeds N
// stands for the whole text (N + 1). It changes which spans the end search visits.
struct Counter {
  const TokenCounter& tc;
  size_t n, heuristic, probe;

  Counter(const TokenCounter& t, size_t chunk_size)
      : tc(t), n(chunk_size), heuristic(chunk_size * 6),
        probe(chunk_size * 6 + (t.longest_token() > 0 ? t.longest_token() - 1 : 0)) {}

  size_t operator()(std::string_view s) const {
    if (s.size() > heuristic && utf8_length(s) > heuristic && tc.count(prefix(s, probe)) > n)
      return n + 1;
    return tc.count(s);
  }
  static std::string_view prefix(std::string_view s, size_t chars) {
    size_t i = 0;
    for (size_t k = 0; k < chars && i < s.size(); ++k) utf8_next(s, i);
    return s.substr(0, i);
  }
};

constexpr std::string_view kPreceders[] = {
    ".", "?", "!", "*", ";", ",", "(", ")", "[", "]", "\u201C", "\u201D", "\u2018", "\u2019",
    "'", "\"", "`", ":", "\u2014", "\u2026", "/", "\\", "\u2013", "&", "-"};

struct Piece {
  size_t begin, end;  // bytes in the text
};

struct Split {
  std::string_view splitter;
  bool whitespace = true;
  std::vector<Piece> pieces;
};


// Python's max() over the runs of characters `in_run` accepts: the lexicographically greatest
// (UTF-8 byte order equals code point order).
template <class F>
std::string_view max_run(std::string_view t, F in_run) {
  std::string_view best;
  for (size_t i = 0; i < t.size();) {
    size_t at = i;
    uint32_t c = utf8_next(t, i);
    if (!in_run(c)) continue;
    size_t end = i;
    while (end < t.size()) {
      size_t j = end;
      if (!in_run(utf8_next(t, j))) break;
      end = j;
    }
    std::string_view run = t.substr(at, end - at);
    if (run > best) best = run;
    i = end;
  }
  return best;
}

// str.split(sep) for a non-empty separator.
void split_on(std::string_view t, std::string_view sep, std::vector<Piece>& out) {
  size_t at = 0;
  for (size_t hit; (hit = t.find(sep, at)) != std::string_view::npos; at = hit + sep.size())
    out.push_back({at, hit});
  out.push_back({at, t.size()});
}

// The first preceder p followed by whitespace: cut at every such whitespace character w after
// p (re.split(r"(?<=p)w")). False when no preceder is followed by whitespace.
bool split_after_preceder(std::string_view t, Split& s) {
  for (std::string_view p : kPreceders) {
    for (size_t hit = t.find(p); hit != std::string_view::npos; hit = t.find(p, hit + 1)) {
      size_t w_at = hit + p.size(), j = w_at;
      if (w_at >= t.size() || !py_isspace(utf8_next(t, j))) continue;
      s.splitter = t.substr(w_at, j - w_at);
      std::string_view w = s.splitter;
      size_t at = 0;
      for (size_t k = t.find(w); k != std::string_view::npos; k = t.find(w, k + 1)) {
        if (k < p.size() || t.compare(k - p.size(), p.size(), p) != 0) continue;
        s.pieces.push_back({at, k});
        at = k + w.size();
      }
      s.pieces.push_back({at, t.size()});
      return true;
    }
  }
  return false;
}

Split split_text(std::string_view t) {
  Split s;
  if (t.find_first_of("\r\n") != std::string_view::npos) {
    s.splitter = max_run(t, [](uint32_t c) { return c == '\n' || c == '\r'; });
  } else if (t.find('\t') != std::string_view::npos) {
    s.splitter = max_run(t, [](uint32_t c) { return c == '\t'; });
  } else if (std::string_view ws = max_run(t, py_isspace); !ws.empty()) {
    s.splitter = ws;
    if (utf8_length(ws) == 1 && split_after_preceder(t, s)) return s;
  } else {
    s.whitespace = false;
    for (std::string_view p : kPreceders)
      if (t.find(p) != std::string_view::npos) {
        s.splitter = p;
        break;
      }
    if (s.splitter.empty()) {  // no splitter: single characters
      for (size_t i = 0; i < t.size();) {
        size_t at = i;
        utf8_next(t, i);
        s.pieces.push_back({at, i});
      }
      return s;
    }
  }
  split_on(t, s.splitter, s.pieces);
  return s;
}

// Pieces [i, j) joined with the splitter: the span of the text they came from.
std::string_view joined(std::string_view t, const Split& s, size_t i, size_t j) {
  if (j <= i) return {};
  return t.substr(s.pieces[i].begin, s.pieces[j - 1].end - s.pieces[i].begin);
}

// semchunk's merge_splits: the end of the chunk that starts at piece i. An adaptive bisection
// on cumulative lengths (code points); the counter is not monotonic, so follow it exactly.
size_t find_end(std::string_view t, const Split& s, const std::vector<size_t>& cum, size_t i,
                const Counter& f) {
  double average = 0.2;
  size_t low = i, high = s.pieces.size() + 1;
  const size_t offset = cum[i];
  double target = double(offset) + double(f.n) * average;
  while (low < high) {
    size_t lo = low, hi = high;  // bisect_left(cum, target, low, high)
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (double(cum[mid]) < target) lo = mid + 1;
      else hi = mid;
    }
    size_t mid = std::min(lo, high - 1);
    size_t tokens = f(joined(t, s, i, mid));
    size_t local = cum[mid] - offset;
    if (local > 0 && tokens > 0) {
      average = double(local) / double(tokens);
      target = double(offset) + double(f.n) * average;
    }
    if (tokens > f.n) high = mid;
    else low = mid + 1;
  }
  return low - 1;
}

void chunk_rec(std::string_view t, const Counter& f, std::vector<std::string>& out) {
  Split s = split_text(t);
  const size_t np = s.pieces.size();
  std::vector<size_t> cum(np + 1, 0);
  for (size_t k = 0; k < np; ++k)
    cum[k + 1] = cum[k] + utf8_length(t.substr(s.pieces[k].begin, s.pieces[k].end - s.pieces[k].begin));
  for (size_t i = 0; i < np;) {
    std::string_view piece = joined(t, s, i, i + 1);
    size_t next = i + 1;
    if (f(piece) > f.n && piece.size() == t.size()) {
      // Nothing smaller to split into (one character worth more tokens than the budget, e.g.
      // a Hangul syllable into jamo pieces under a budget of 1): upstream recurses until Python
      // gives up; the piece goes out over budget instead.
      out.emplace_back(piece);
    } else if (f(piece) > f.n) {
      chunk_rec(piece, f, out);
    } else {
      size_t end = find_end(t, s, cum, i, f);
      out.emplace_back(joined(t, s, i, end));
      next = std::max(end, i + 1);
    }
    // A punctuation splitter goes back on the chunk it ended, or stands alone if that overflows.
    if (!s.whitespace && next < np && !out.empty()) {
      std::string with = out.back() + std::string(s.splitter);
      if (f(with) <= f.n) out.back() = std::move(with);
      else out.emplace_back(s.splitter);
    }
    i = next;
  }
}

bool is_blank(std::string_view s) {
  for (size_t i = 0; i < s.size();)
    if (!py_isspace(utf8_next(s, i))) return false;
  return true;
}

// --- line chunker ---

struct LineChunker {
  const TokenCounter& tc;
  long max;

  // Python's split_by_token_limit with its binary search (count is not monotonic in the
  // length, so the search, not the largest fitting prefix, decides), then the last space.
  size_t cut(std::string_view text, long limit) const {
    if (limit <= 0 || text.empty()) return 0;
    std::vector<size_t> at;  // byte offset of each code point, plus the end
    for (size_t i = 0; i < text.size(); utf8_next(text, i)) at.push_back(i);
    at.push_back(text.size());
    long lo = 0, hi = long(at.size()) - 1, best = -1;
    while (lo <= hi) {
      long mid = (lo + hi) / 2;
      if (long(tc.count(text.substr(0, at[size_t(mid)]))) <= limit) best = mid, lo = mid + 1;
      else hi = mid - 1;
    }
    if (best <= 0) return 0;
    std::string_view head = text.substr(0, at[size_t(best)]);
    size_t space = head.rfind(' ');
    return space != std::string_view::npos && space > 0 ? space : head.size();
  }

  std::vector<std::string> run(const std::vector<std::string>& lines, const std::string& prefix,
                               bool omit_prefix) const {
    std::vector<std::string> out;
    long p = prefix.empty() ? 0 : long(tc.count(prefix));
    if (!prefix.empty() && p >= max) {  // the prefix alone is too long: its pieces first, then no prefix
      out = run({prefix}, "", false);
      p = 0;
    }
    const std::string fresh = p > 0 ? prefix : std::string();
    std::string current = fresh;
    long len = p;
    for (const std::string& line : lines) {
      std::string_view rest = line;
      while (true) {
        long t = long(tc.count(rest));
        if (t <= max - len) {
          current += rest;
          len += t;
          break;
        }
        if (t + p <= max || (omit_prefix && p > 0 && t <= max)) {
          out.push_back(std::move(current));
          bool bare = t + p > max;  // omit_header_on_overflow: this row goes without header
          current = bare ? std::string() : fresh;
          len = bare ? 0 : p;
          continue;
        }
        size_t head = cut(rest, max - len);
        if (head == 0) {
          if (rest.empty()) break;
          size_t one = 0;
          utf8_next(rest, one);
          head = one;
        }
        current += '\n';
        current += rest.substr(0, head);
        len += long(tc.count(rest.substr(0, head)));
        out.push_back(std::move(current));
        current = fresh;
        len = p;
        rest = rest.substr(head);
      }
    }
    if (!current.empty() && (p == 0 || current != prefix)) out.push_back(std::move(current));
    return out;
  }
};

}  // namespace

std::vector<std::string> semchunk(std::string_view utf8, size_t chunk_size, const TokenCounter& tc) {
  Counter f(tc, chunk_size);
  std::vector<std::string> raw;
  chunk_rec(utf8, f, raw);
  std::vector<std::string> out;
  for (std::string& c : raw)
    if (!c.empty() && !is_blank(c)) out.push_back(std::move(c));
  return out;
}

std::vector<std::string> line_chunk(const std::vector<std::string>& lines, const std::string& prefix,
                                    size_t max_tokens, bool omit_header_on_overflow,
                                    const TokenCounter& tc) {
  LineChunker lc{tc, long(max_tokens)};
  return lc.run(lines, prefix, omit_header_on_overflow);
}

}  // namespace docling::chunk
