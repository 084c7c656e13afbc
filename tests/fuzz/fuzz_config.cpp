// The platform loader (config/platform_config.h) on any text: the input is a YAML document, then
// optionally a line "%%" and --set lines. A refusal is a ConfigError; an accepted configuration
// must survive dump_platform and loading back (equal settings), or it is a finding.
#include <sstream>
#include <string>
#include <vector>

#include "config/platform_config.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string yaml = text;
  std::vector<std::string> sets;
  const size_t cut = text.find("\n%%\n");
  if (cut != std::string::npos) {
    yaml = text.substr(0, cut + 1);
    std::istringstream rest(text.substr(cut + 4));
    for (std::string line; std::getline(rest, line);)
      if (!line.empty()) sets.push_back(line);
  }
  aimc::config::PlatformConfig cfg;
  try {
    cfg = aimc::config::load_platform_from_string(yaml, "fuzz.yaml", sets);
  } catch (const aimc::config::ConfigError&) {
    return 0;
  } catch (const std::exception& e) {
    aimc::fuzz::finding("fuzz_config", &e);
  } catch (...) {
    aimc::fuzz::finding("fuzz_config", nullptr);
  }
  try {
    const std::string dumped = aimc::config::dump_platform(cfg);
    const aimc::config::PlatformConfig again = aimc::config::load_platform_from_string(dumped, "dump.yaml");
    if (!(again == cfg)) {
      std::fprintf(stderr, "fuzz_config: the configuration differs after dump and reload:\n%s\n", dumped.c_str());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: an accepted configuration does not load back from its dump\n");
    aimc::fuzz::finding("fuzz_config", &e);
  }
  return 0;
}
