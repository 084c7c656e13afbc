// The registry of device kinds (numerics/device_kind.h, device_model.h, device_registry.cpp): every
// enumerator has exactly one model, which says it is that kind and is spelled as the enumerator;
// names are unique and parse back; the traits agree with what validate() and program_verify
// expect of each law. Adding a kind is its file in model/numerics/devices/ plus one line in
// AIMC_DEVICE_KINDS; these tests check that the two stay consistent.
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "numerics/device.h"
#include "numerics/device_model.h"

using namespace aimc::num;

namespace {

// The kinds as the list spells them, independently of the registry's table.
#define AIMC_TEST_KIND_NAME(name) #name,
const char* const kListed[] = {AIMC_DEVICE_KINDS(AIMC_TEST_KIND_NAME)};
#undef AIMC_TEST_KIND_NAME

// A physics every kind accepts: positive g_min, erased state at the kind's end of the range.
DevicePhysics physics_for(const DeviceModel& m) {
  DevicePhysics p;
  p.kind = m.kind();
  p.cell.ideal = m.traits().pulse == PulseLaw::exact;
  p.cell.bits_per_cell = 4;
  p.cell.g_min_ns = 1;
  p.cell.g_max_ns = 1000;
  p.g_erased_ns = m.traits().erase_high ? 2000 : 1;
  return p;
}

}  // namespace

TEST(DeviceRegistry, EveryKindHasExactlyOneModelNamedAsListed) {
  ASSERT_EQ(kDeviceKindCount, static_cast<int>(sizeof kListed / sizeof kListed[0]));
  std::set<std::string> names;
  std::set<const DeviceModel*> models;
  for (int i = 0; i < kDeviceKindCount; ++i) {
    const DeviceKind kind = static_cast<DeviceKind>(i);
    const DeviceModel& m = device_model(kind);
    EXPECT_EQ(m.kind(), kind) << "the model registered at position " << i << " is another kind";
    EXPECT_STREQ(m.name(), kListed[i]);
    EXPECT_STREQ(device_kind_name(kind), kListed[i]);
    EXPECT_EQ(device_kind_code(kind), static_cast<unsigned>(i));
    EXPECT_NE(std::string(m.summary()), "") << kListed[i];
    EXPECT_TRUE(names.insert(m.name()).second) << "duplicate name " << m.name();
    EXPECT_TRUE(models.insert(&m).second) << "one model registered twice: " << m.name();
    EXPECT_EQ(&device_model(kind), &m) << "the registry must hand out one model per kind";
    ASSERT_TRUE(parse_device_kind(m.name()).has_value()) << m.name();
    EXPECT_EQ(*parse_device_kind(m.name()), kind);
  }
  EXPECT_FALSE(parse_device_kind("sram").has_value());
  EXPECT_FALSE(parse_device_kind("Flash").has_value());  // exact spelling only
  EXPECT_FALSE(parse_device_kind("").has_value());
}

TEST(DeviceRegistry, TheFourPublishedKindsKeepTheirCodes) {
  // CAPS_DEVICE.TYPE codes are a firmware ABI: a new kind is appended, never inserted.
  EXPECT_EQ(device_kind_code(DeviceKind::ideal), 0u);
  EXPECT_EQ(device_kind_code(DeviceKind::flash), 1u);
  EXPECT_EQ(device_kind_code(DeviceKind::pcm), 2u);
  EXPECT_EQ(device_kind_code(DeviceKind::rram), 3u);
  const std::string list = device_kind_list();  // "ideal, flash, pcm or rram" today
  EXPECT_EQ(list.rfind("ideal, flash, pcm", 0), 0u) << list;
  const std::string last = kListed[kDeviceKindCount - 1];
  EXPECT_EQ(list.substr(list.size() - last.size() - 4), " or " + last) << list;
}

TEST(DeviceRegistry, ValuesOutsideTheEnumAreRefusedWithTheKindsListed) {
  const DeviceKind bogus = static_cast<DeviceKind>(kDeviceKindCount);
  EXPECT_STREQ(device_kind_name(bogus), "?");
  try {
    device_model(bogus);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(device_kind_list()), std::string::npos) << e.what();
  }
  DevicePhysics p;
  p.kind = bogus;
  try {
    validate(p);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("kind"), std::string::npos) << e.what();
  }
}

// The traits are what the shared code branches on; these are the combinations it supports.
TEST(DeviceRegistry, TraitsAreConsistentAndEveryKindValidatesAndPrograms) {
  for (int i = 0; i < kDeviceKindCount; ++i) {
    const DeviceModel& m = device_model(static_cast<DeviceKind>(i));
    const DeviceTraits t = m.traits();
    SCOPED_TRACE(m.name());
    if (t.pulse == PulseLaw::exact) {
      EXPECT_FALSE(t.cycles_on_erase || t.cycles_on_program || t.drift || t.erase_high);
    } else {
      EXPECT_NE(t.cycles_on_erase, t.cycles_on_program) << "endurance counts on erase or on program";
    }
    // One-way pulses need an erase to the high state to start from.
    EXPECT_EQ(t.pulse == PulseLaw::log_down, t.erase_high);
    const DevicePhysics p = physics_for(m);
    EXPECT_NO_THROW(validate(p));
    EXPECT_TRUE(thermal_law_at(p, p.t_ref_c).identity());  // t_ref is the reference
    // Every kind programs a small block through the shared machine and reads it back.
    CellState s(3, 5, p);
    erase_rows(s, p, 0, 3);
    const int16_t levels[15] = {0, 1, -1, 7, -7, 15, -15, 3, -3, 0, 8, -8, 2, -2, 5};
    Rng rng(7);
    ProgramParams pp;
    pp.max_iterations = 50;
    const ProgramResult r = program_verify(s, p, levels, 3, 5, pp, rng);
    EXPECT_EQ(r.cells, 30);
    EXPECT_GE(r.pulses, 0);
    Eigen::MatrixXf gp, gn;
    effective_conductances(s, p, 3600.0, 60.0, gp, gn);
    EXPECT_EQ(gp.rows(), 3);
    EXPECT_TRUE(gp.allFinite() && gn.allFinite());
  }
}
