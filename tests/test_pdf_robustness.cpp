// PDF intake robustness (issue 19): passwords (#14), rotated pages' text layer (#13),
// decompression bombs (#10) and deeply nested Form XObjects (#6).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "layout/pdf.h"
#include "layout/text_layer.h"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const fs::path kRobust = fs::path(DOCLING_TEST_DATA) / "pdfs" / "robustness";

std::string page_text(const PageSource& src, int page_no) {
  std::string s;
  for (const TextWord& w : src.words(page_no)) s += w.text + " ";
  return s;
}

std::unique_ptr<PageSource> open_with(const fs::path& p, const std::string& password) {
  OpenOptions o;
  o.password = password;
  return open_source(p.string(), o);
}

}  // namespace

// owner_password_only.pdf: empty user password, owner password "owner-secret" (qpdf, AES-256).
// It opens without a password, so a password given for it (right or wrong) must not lock it.
TEST(PdfPassword, EmptyUserPasswordOpensWhateverIsGiven) {
  const fs::path pdf = kRobust / "owner_password_only.pdf";
  for (const char* pw : {"", "owner-secret", "some other password", "1234"}) {
    std::unique_ptr<PageSource> src;
    ASSERT_NO_THROW(src = open_with(pdf, pw)) << "password '" << pw << "'";
    ASSERT_EQ(src->page_count(), 1) << pw;
    EXPECT_NE(page_text(*src, 1).find("Opens without a password"), std::string::npos) << pw;
  }
}

// 2206.01062_pg3_password_1234.pdf: user "1234", owner "owner".
TEST(PdfPassword, UserAndOwnerPasswordsBothOpenAndWrongOnesFail) {
  const fs::path pdf = kRobust / "2206.01062_pg3_password_1234.pdf";
  for (const char* pw : {"1234", "owner"}) EXPECT_NO_THROW(open_with(pdf, pw)) << pw;
  try {
    open_with(pdf, "12345");
    FAIL() << "a wrong password opened the file";
  } catch (const PdfError& e) {
    EXPECT_EQ(e.kind, PdfError::Kind::WrongPassword) << e.what();
  }
  try {
    open_with(pdf, "");
    FAIL() << "no password opened the file";
  } catch (const PdfError& e) {
    EXPECT_EQ(e.kind, PdfError::Kind::Encrypted) << e.what();
  }
}
