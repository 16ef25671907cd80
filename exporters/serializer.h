// The document walk every exporter shares, mirroring docling-core's DocSerializer:
// pre-order iteration over the body with layer filtering, page-break markers,
// the excluded-item set (labels, layers, pages, index slice), the visited set that
// lets a container (list, inline group, picture) render its children itself, and
// the dispatch to per-kind hooks that each format implements.
//
// Takes: a Document and an ExportFilter. Gives: the exported text via run().
#pragma once

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "exporters/common.h"

namespace docling::ser {

struct Part {
  std::string text;
  std::vector<Ref> spans;  // items this text came from (first one decides list merging)
};

// Per-call context that docling-core passes as keyword arguments.
struct Ctx {
  int list_level = 0;
  bool inline_scope = false;
  bool add_location = true;  // DocTags: children of an inline group carry no location
};

// One step of the walk: a node, or a page-break marker between two pages.
struct Step {
  Ref ref;
  bool page_break = false;
  int pb_index = 0, prev_page = 0, next_page = 0;
};

class DocSerializer;
// Renders a table in place of the format's own table_item (the chunkers' triplet form).
using TableRenderer = std::function<Part(DocSerializer&, const TableItem&, const Ctx&)>;

class DocSerializer {
 public:
  DocSerializer(const Document& doc, ExportFilter filter);
  virtual ~DocSerializer() = default;

  // The whole document.
  std::string run();
  // The context a fresh top-level call starts from.
  virtual Ctx root_ctx() const { return Ctx{}; }

  // One node (marks it visited); parts of a node's subtree not yet visited.
  Part serialize(const Step& step, const Ctx& ctx);
  Part serialize(Ref ref, const Ctx& ctx) { return serialize(Step{ref}, ctx); }
  std::vector<Part> get_parts(Ref root, const Ctx& ctx);

  const Document& doc() const { return doc_; }
  // Whether serialize() or a container's walk has already rendered `r`.
  bool visited(Ref r) const { return visited_.count(key(Step{r})) > 0; }
  void set_table_renderer(TableRenderer r) { table_renderer_ = std::move(r); }
  // Forget what was rendered (items rendered one by one, each as if alone).
  void clear_visited() { visited_.clear(); }
  const ExportFilter& filter() const { return filter_; }
  bool excluded(Ref r) const;
  bool is_list(Ref r) const;
  bool is_inline(Ref r) const;
  bool first_item_enumerated(const GroupItem& g) const;
  // The inline group a text item stands for (empty text, one inline-group child).
  const GroupItem* inline_child(const TextItem& t) const;
  static std::string page_break_marker(int prev, int next);
  // Replace every page-break marker in `text` with `sep`.
  static std::string replace_page_breaks(const std::string& text, const std::string& sep);

  // The captions of a floating item, joined by caption_delim and post-processed.
  Part base_captions(const Floating& f);
  // Escaping (when `esc`), then formatting and hyperlink, as upstream's post_process.
  std::string post_process(const std::string& text, const std::optional<Formatting>& fmt,
                           const std::optional<std::string>& link, bool esc = true);

 protected:
  virtual bool requires_page_break() const = 0;
  virtual std::string delim() const { return "\n"; }
  virtual bool wraps_meta(Ref) const { return false; }
  virtual std::string serialize_doc(const std::vector<Part>& parts) = 0;
  virtual Part text_item(const TextItem& t, const Ctx& ctx) = 0;
  virtual Part table_item(const TableItem& t, const Ctx& ctx) = 0;
  virtual Part picture_item(const PictureItem& p, const Ctx& ctx) = 0;
  virtual Part key_value_item(const KeyValueItem& k, const Ctx& ctx) = 0;
  virtual Part form_item(const KeyValueItem& k, const Ctx& ctx) = 0;
  virtual Part list_group(const GroupItem& g, const Ctx& ctx) = 0;
  virtual Part inline_group(const GroupItem& g, const Ctx& ctx) = 0;
  virtual Part other_group(const GroupItem& g, const Ctx& ctx) = 0;
  virtual std::string meta(const Node& n) { (void)n; return ""; }
  virtual std::string escape(const std::string& s) { return s; }  // post_process step 1
  virtual std::string bold(const std::string& s) { return s; }
  virtual std::string italic(const std::string& s) { return s; }
  virtual std::string underline(const std::string& s) { return s; }
  virtual std::string strikethrough(const std::string& s) { return s; }
  virtual std::string subscript(const std::string& s) { return s; }
  virtual std::string superscript(const std::string& s) { return s; }
  virtual std::string hyperlink(const std::string& s, const std::string& url) { (void)url; return s; }

  std::vector<Step> iterate(Ref root, bool page_breaks) const;

  const Document& doc_;
  ExportFilter filter_;

 private:
  static uint64_t key(const Step& s);
  void compute_excluded();
  // Pre-order of the tree under r (the selected layers unless with_all_layers); depths, when
  // given, receives each node's depth below r.
  void walk(Ref r, std::vector<Ref>& out, bool with_all_layers, bool traverse_pictures,
            std::vector<int>* depths = nullptr) const;

  TableRenderer table_renderer_;
  std::unordered_set<uint64_t> visited_;
  std::unordered_set<uint64_t> excluded_;
  std::unordered_set<uint64_t> captions_, footnotes_;  // of some floating item
};

}  // namespace docling::ser
