// Test fixtures shared by test programs: small PDFs written from scratch.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace docling::testing {

// A PDF of these objects (numbered from 1; object 1 is the catalog), with its xref table.
inline std::string pdf_from_objects(const std::vector<std::string>& objs) {
  std::string out = "%PDF-1.4\n";
  std::vector<size_t> offs;
  for (size_t i = 0; i < objs.size(); ++i) {
    offs.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t o : offs) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", o);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

// A minimal valid PDF: one page per media box, each with an optional content stream.
inline std::string make_pdf(const std::vector<std::pair<std::string, std::string>>& pages) {
  std::vector<std::string> objs;
  std::string kids;
  int n = int(pages.size());
  for (int i = 0; i < n; ++i) kids += std::to_string(3 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  for (int i = 0; i < n; ++i) {
    objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [" + pages[i].first +
                   "] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont "
                   "/Helvetica >> >> >> /Contents " + std::to_string(4 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(pages[i].second.size()) + " >>\nstream\n" +
                   pages[i].second + "\nendstream");
  }
  return pdf_from_objects(objs);
}

}  // namespace docling::testing
