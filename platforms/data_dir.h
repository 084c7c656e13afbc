// Where the tools find their data (library aimc_data_dir): the platform presets (platforms/*.yaml)
// and the bundled models (platforms/models/) live under one data folder, in the same layout as in
// the source tree. Nothing is compiled in: the folder is found at run time, in this order:
//   1. $AIMC_DATA_DIR, when set (and then only there: a wrong value is an error, not a fallback);
//   2. <folder of the executable>/../share/aimc: the installed layout (cmake --install);
//   3. the file `aimc-data-dir` next to the executable, holding the folder's path: the build
//      writes it next to build/platforms/aimc and next to every firmware aimc_add_firmware makes
//      (in the build tree it names the source tree, in a user's project the installed package).
// A candidate counts when it has a `platforms/` folder.
#pragma once

#include <string>
#include <vector>

namespace aimc::app {

struct DataDir {
  std::string path;                // the data folder; empty when none was found
  std::string found_by;            // how it was found, for --help ("$AIMC_DATA_DIR", ...)
  std::vector<std::string> looked;  // every place looked at, and why it was not taken

  bool found() const { return !path.empty(); }
  // `path + "/" + rel` when found (no normalization: the same string as a path typed by hand),
  // else empty.
  std::string file(const std::string& rel) const;
  // One sentence for an error: where it looked, and what to do.
  std::string not_found_message() const;
};

// Finds the data folder (never throws). `argv0` is used only where /proc/self/exe is missing.
DataDir locate_data_dir(const char* argv0 = nullptr);

// The bundled default platform and model, relative to the data folder.
inline constexpr const char* kDefaultPlatformRel = "platforms/membrain-3x4.yaml";
inline constexpr const char* kDefaultModelRel = "platforms/models/fashion_mnist_mlp.onnx";

// Text for help output: where presets come from, and where they were found now.
std::string describe_data_dir(const DataDir& d);

}  // namespace aimc::app
