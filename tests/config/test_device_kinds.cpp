// The device kinds seen from the configuration and the firmware header: every registered kind
// (numerics/device_kind.h) is a value of tile.device.type that loads, dumps and loads again; an
// unknown one is refused with the registered ones listed; the key's meaning names each kind with
// its summary; the committed firmware header has its AIMC_DEVICE_<NAME> code.
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "config/platform_config.h"
#include "numerics/device_model.h"
#include "presets.h"

namespace cfgns = aimc::config;
namespace num = aimc::num;

namespace {


}  // namespace

TEST(DeviceKinds, EveryKindRoundTripsThroughTheConfig) {
  const std::string base = cfgns::dump_platform(cfgns::PlatformConfig{});
  for (int i = 0; i < num::kDeviceKindCount; ++i) {
    const num::DeviceKind kind = static_cast<num::DeviceKind>(i);
    const std::string name = num::device_kind_name(kind);
    SCOPED_TRACE(name);
    const cfgns::PlatformConfig a =
        cfgns::load_platform_from_string(base, "base", {"tile.device.type=" + name});
    EXPECT_EQ(a.tile.device.type, kind);
    EXPECT_EQ(cfgns::to_string(a.tile.device.type), name);
    const std::string text = cfgns::dump_platform(a);
    EXPECT_NE(text.find("type: " + name + "\n"), std::string::npos) << text;
    EXPECT_EQ(cfgns::load_platform_from_string(text, "dump"), a);
  }
}

TEST(DeviceKinds, AnUnknownKindIsRefusedWithTheRegisteredOnesListed) {
  const std::string base = cfgns::dump_platform(cfgns::PlatformConfig{});
  try {
    cfgns::load_platform_from_string(base, "base", {"tile.device.type=sram"});
    ADD_FAILURE() << "sram accepted";
  } catch (const cfgns::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tile.device.type"), std::string::npos) << what;
    for (int i = 0; i < num::kDeviceKindCount; ++i)
      EXPECT_NE(what.find(num::kDeviceKindNames[i]), std::string::npos) << what;
  }
}

TEST(DeviceKinds, TheKeyMeaningNamesEveryKindWithItsSummary) {
  std::string meaning;
  for (const auto& k : cfgns::describe_keys())
    if (k.key == "tile.device.type") meaning = k.meaning;
  ASSERT_FALSE(meaning.empty());
  for (int i = 0; i < num::kDeviceKindCount; ++i) {
    const num::DeviceModel& m = num::device_model(static_cast<num::DeviceKind>(i));
    EXPECT_NE(meaning.find(std::string(m.name()) + " (" + m.summary() + ")"), std::string::npos)
        << meaning;
  }
}

TEST(DeviceKinds, TheFirmwareHeaderHasEveryKindsCode) {
  std::ifstream in(source_dir() + "/firmware_stubs/include/aimc_regs.h");
  ASSERT_TRUE(in) << "firmware_stubs/include/aimc_regs.h missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string header = ss.str();
  for (int i = 0; i < num::kDeviceKindCount; ++i) {
    std::string macro = std::string("AIMC_DEVICE_") + num::kDeviceKindNames[i];
    for (char& c : macro) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    char value[16];
    std::snprintf(value, sizeof value, "0x%08Xu", i);
    EXPECT_NE(header.find("#define " + macro + " " + value), std::string::npos)
        << macro << " = " << value << " missing (run scripts/gen-regs.sh)";
  }
}
