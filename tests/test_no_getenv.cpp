// The library reads no environment variables: settings come from its callers (kernels::configure,
// vision::LoadOptions). Only the command line's files (pipeline/cli*.cpp, pipeline/main.cpp) may
// read the environment and map it onto those settings. This scans the library's sources.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = fs::path(DOCLING_TEST_DATA).parent_path().parent_path();  // <root>/tests/data

// Known exception, to move to the caller: the model search (find_model, default_model_dir)
// reads these in pipeline/vlm.cpp. Any other variable there fails.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"pipeline/vlm.cpp", {"XDG_CACHE_HOME", "HOME", "DOCLING_MODEL"}}};

bool is_cli(const fs::path& rel) {
  const std::string name = rel.filename().string();
  return rel.parent_path() == "pipeline" && (name.rfind("cli", 0) == 0 || name == "main.cpp");
}

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
  for (const char* dir : {"kernels", "vision", "layout", "doctags", "exporters", "pipeline"}) {
    ASSERT_TRUE(fs::is_directory(kRoot / dir)) << (kRoot / dir);
    for (const auto& e : fs::recursive_directory_iterator(kRoot / dir)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".hpp" && ext != ".cc")) continue;
      const fs::path rel = fs::relative(e.path(), kRoot);
      ++files;
      if (is_cli(rel)) continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      auto allowed = kAllowed.find(rel.generic_string());
      for (const std::string& var : env_reads(ss.str()))
        EXPECT_TRUE(allowed != kAllowed.end() && allowed->second.count(var))
            << rel.generic_string() << " reads the environment (" << var
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
