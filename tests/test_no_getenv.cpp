// The library reads no environment variables: settings come from its callers (EngineOptions,
// kernels::configure, vision::LoadOptions). Only the command line (cli/, outside the library) and
// the bench programs read the environment and map it onto those settings. This scans the
// library's sources.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = fs::path(DOCLING_TEST_DATA).parent_path().parent_path();  // <root>/tests/data

// Each read of the environment in `text` (comments removed): the variable's name when it is a
// literal, else "?".
std::vector<std::string> env_reads(const std::string& text) {
  static const std::regex line_comment("//[^\n]*"), block_comment("/\\*[\\s\\S]*?\\*/");
  const std::string code = std::regex_replace(std::regex_replace(text, block_comment, " "), line_comment, " ");
  static const std::regex read("\\b(secure_getenv|getenv|environ|_environ|getenv_s)\\b\\s*(\\(\\s*\"([^\"]*)\")?");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(code.begin(), code.end(), read); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[3].matched ? (*it)[3].str() : "?");
  return out;
}

}  // namespace

TEST(LibrarySources, ReadNoEnvironmentOutsideTheCli) {
  int files = 0;
  for (const char* dir : {"core", "kernels", "vision", "layout", "doctags", "exporters", "pipeline", "include"}) {
    ASSERT_TRUE(fs::is_directory(kRoot / dir)) << (kRoot / dir);
    for (const auto& e : fs::recursive_directory_iterator(kRoot / dir)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".hpp" && ext != ".cc")) continue;
      const fs::path rel = fs::relative(e.path(), kRoot);
      ++files;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      for (const std::string& var : env_reads(ss.str()))
        ADD_FAILURE() << rel.generic_string() << " reads the environment (" << var
            << "): take the setting from the caller (kernels::configure, vision::LoadOptions, ...)";
    }
  }
  EXPECT_GT(files, 50);  // the scan saw the sources
}

TEST(LibrarySources, TheScanFindsReads) {  // the pattern itself, on samples
  EXPECT_EQ(env_reads("const char* e = std::getenv(\"DOCLING_ISA\");"), std::vector<std::string>{"DOCLING_ISA"});
  EXPECT_EQ(env_reads("auto p = secure_getenv (name);"), std::vector<std::string>{"?"});
  EXPECT_EQ(env_reads("for (char** e = environ; *e; ++e) {}"), std::vector<std::string>{"?"});
  EXPECT_TRUE(env_reads("// getenv(\"X\") in a comment\n/* getenv(\"Y\") */ int getenvironment = 0;").empty());
}
