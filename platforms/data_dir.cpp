#include "data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

// The installed data folder relative to the installed executable's folder, from GNUInstallDirs
// (CMAKE_INSTALL_BINDIR to CMAKE_INSTALL_DATADIR/aimc): a relative path, so the package can be
// moved or installed under any prefix.
#ifndef AIMC_DATA_DIR_FROM_BINDIR
#define AIMC_DATA_DIR_FROM_BINDIR "../share/aimc"
#endif

namespace aimc::app {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMarkerName = "aimc-data-dir";

// Why `dir` is not a data folder, or "" when it is one.
std::string reject_reason(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return "does not exist";
  if (!fs::is_directory(dir, ec)) return "is not a folder";
  if (!fs::is_directory(fs::path(dir) / "platforms", ec)) return "has no platforms/ folder";
  return "";
}

// The folder of the running executable: /proc/self/exe (symlinks resolved, so a link to an
// installed aimc still finds its prefix), else argv[0] when it names a path.
std::string executable_dir(const char* argv0) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && !exe.empty()) return exe.parent_path().string();
  if (argv0 != nullptr && std::string(argv0).find('/') != std::string::npos) {
    const fs::path p = fs::absolute(argv0, ec);
    if (!ec) return p.parent_path().string();
  }
  return "";
}

// The first line of the marker file, trimmed; empty when the file is missing or blank.
std::string read_marker(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  return first == std::string::npos ? "" : line.substr(first, last - first + 1);
}

}  // namespace

std::string DataDir::file(const std::string& rel) const {
  return found() ? path + "/" + rel : std::string();
}

std::string DataDir::not_found_message() const {
  std::string s = "the aimc data folder (presets and bundled models) was not found; looked at:";
  for (const auto& l : looked) s += "\n  " + l;
  s += "\nset AIMC_DATA_DIR to the folder that holds platforms/ (an installed package's "
       "share/aimc,\nor the source tree), or name the files with --platform/--model";
  return s;
}

DataDir locate_data_dir(const char* argv0) {
  DataDir d;
  if (const char* env = std::getenv("AIMC_DATA_DIR"); env != nullptr) {
    // An explicit setting is used alone: silently falling back would hide a typo.
    const std::string dir = env;
    const std::string why = dir.empty() ? "is empty" : reject_reason(dir);
    if (why.empty()) {
      d.path = dir;
      d.found_by = "$AIMC_DATA_DIR";
    } else {
      d.looked.push_back("$AIMC_DATA_DIR=" + dir + ": " + why);
    }
    return d;
  }
  d.looked.emplace_back("$AIMC_DATA_DIR: not set");

  const std::string exe_dir = executable_dir(argv0);
  if (exe_dir.empty()) {
    d.looked.emplace_back("the executable's folder: unknown (no /proc/self/exe)");
    return d;
  }
  const std::string installed =
      (fs::path(exe_dir) / AIMC_DATA_DIR_FROM_BINDIR).lexically_normal().string();
  if (const std::string why = reject_reason(installed); why.empty()) {
    d.path = installed;
    d.found_by = "the install prefix";
    return d;
  } else {
    d.looked.push_back(installed + " (installed layout): " + why);
  }

  const fs::path marker = fs::path(exe_dir) / kMarkerName;
  std::error_code ec;
  if (!fs::exists(marker, ec)) {
    d.looked.push_back(marker.string() + " (build tree): no such file");
    return d;
  }
  const std::string named = read_marker(marker);
  const std::string why = named.empty() ? "is empty" : reject_reason(named);
  if (why.empty()) {
    d.path = named;
    d.found_by = marker.string();
  } else {
    d.looked.push_back(marker.string() + " (build tree) names '" + named + "', which " + why);
  }
  return d;
}

std::string describe_data_dir(const DataDir& d) {
  std::string s =
      "Presets (platforms/*.yaml) and bundled models (platforms/models/) come from the aimc data\n"
      "folder: $AIMC_DATA_DIR if set, else " AIMC_DATA_DIR_FROM_BINDIR
      " from the executable's folder (installed),\n"
      "else the folder named in the file aimc-data-dir next to the executable (build tree).\n";
  if (d.found())
    s += "Data folder now: " + d.path + " (from " + d.found_by + ")\n";
  else
    s += "Data folder now: none. " + d.not_found_message() + "\n";
  return s;
}

}  // namespace aimc::app
