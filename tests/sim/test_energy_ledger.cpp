#include <cmath>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/energy_ledger.h"

using aimc::sim::EnergyLedger;
using aimc::sim::Phase;

namespace {

// |a - b| within a few ULPs of the larger magnitude.
void expect_close(double a, double b, double ulps = 8.0) {
  const double tol = ulps * std::numeric_limits<double>::epsilon() * std::max(std::fabs(a), std::fabs(b));
  EXPECT_LE(std::fabs(a - b), tol) << a << " vs " << b;
}

}  // namespace

TEST(EnergyLedger, IdsAreFindOrCreateAndLayerZeroIsNone) {
  EnergyLedger l;
  EXPECT_EQ(l.layer_name(0), "(none)");
  EXPECT_EQ(l.layer("(none)"), 0);
  const int adc = l.component("adc");
  EXPECT_EQ(l.component("adc"), adc);
  EXPECT_NE(l.component("dac"), adc);
  EXPECT_EQ(l.layer("fc1"), 1);
  EXPECT_EQ(l.layer("fc2"), 2);
  EXPECT_EQ(l.layer("fc1"), 1);
  EXPECT_EQ(l.component_name(adc), "adc");
  EXPECT_THROW(l.component(""), std::invalid_argument);
}

TEST(EnergyLedger, PostAccumulatesPerCellWithCounts) {
  EnergyLedger l;
  const int adc = l.component("adc");
  const int fc1 = l.layer("fc1");
  l.post(adc, fc1, Phase::infer, 1.5e-12, 3);
  l.post(adc, fc1, Phase::infer, 0.5e-12, 1);
  l.post(adc, 0, Phase::deploy, 1e-12);
  EXPECT_DOUBLE_EQ(l.cell_j(adc, fc1, Phase::infer), 2e-12);
  EXPECT_EQ(l.event_count(adc, fc1, Phase::infer), 4u);
  EXPECT_EQ(l.event_count(adc), 5u);
  EXPECT_DOUBLE_EQ(l.component_j(adc), 3e-12);
  EXPECT_DOUBLE_EQ(l.phase_j(Phase::deploy), 1e-12);
  EXPECT_DOUBLE_EQ(l.layer_j(fc1), 2e-12);
  EXPECT_DOUBLE_EQ(l.total_j(), 3e-12);
  EXPECT_EQ(l.static_j(), 0.0);
}

TEST(EnergyLedger, StaticPowerIntegratesExactlyOverTime) {
  EnergyLedger l;
  const int bus = l.component("bus");
  const int sram = l.component("sram");
  l.set_static_power(bus, 1.0);       // 1 W
  l.set_static_power(sram, 100e-6);   // 100 uW
  EXPECT_DOUBLE_EQ(l.static_power_total_w(), 1.0 + 100e-6);
  l.advance(1000);                    // 1 ns
  EXPECT_DOUBLE_EQ(l.component_j(bus), 1e-9);
  EXPECT_DOUBLE_EQ(l.component_j(sram), 100e-6 * 1e-9);
  EXPECT_EQ(l.now_ps(), 1000u);
  // Many small steps equal one big step.
  EnergyLedger a, b;
  const int ca = a.component("x"), cb = b.component("x");
  a.set_static_power(ca, 10e-6);
  b.set_static_power(cb, 10e-6);
  for (uint64_t t = 7; t <= 7 * 100000; t += 7) a.advance(t);
  b.advance(7 * 100000);
  expect_close(a.total_j(), b.total_j());
  expect_close(b.total_j(), 10e-6 * 700000e-12);
  // Static energy sits in layer 0, in the phase current at the time.
  EXPECT_DOUBLE_EQ(a.layer_j(0), a.total_j());
  EXPECT_DOUBLE_EQ(a.static_j(), a.total_j());
}

TEST(EnergyLedger, PowerStateChangeAtATime) {
  EnergyLedger l;
  const int tile = l.component("array");
  l.set_static_power(tile, 2.0, 0);
  l.set_static_power(tile, 0.0, 500);   // standby costs nothing from 500 ps on
  l.advance(10000);
  EXPECT_DOUBLE_EQ(l.component_j(tile), 2.0 * 500e-12);
  EXPECT_DOUBLE_EQ(l.static_power_w(tile), 0.0);
  EXPECT_EQ(l.static_power_total_w(), 0.0);
}

TEST(EnergyLedger, PhaseAttributionOfStaticAndDynamic) {
  EnergyLedger l;
  const int host = l.component("host");
  const int prog = l.component("programming");
  const int fc1 = l.layer("fc1");
  l.set_static_power(host, 1e-3);
  EXPECT_EQ(l.phase(), Phase::deploy);
  l.post(prog, fc1, Phase::deploy, 5e-9);
  l.set_phase(Phase::infer, 2000);      // 2 ns of deploy static
  l.advance(5000);                      // 3 ns of infer static
  EXPECT_DOUBLE_EQ(l.component_phase_j(host, Phase::deploy), 1e-3 * 2e-9);
  EXPECT_DOUBLE_EQ(l.component_phase_j(host, Phase::infer), 1e-3 * 3e-9);
  EXPECT_DOUBLE_EQ(l.layer_phase_j(fc1, Phase::deploy), 5e-9);
  EXPECT_EQ(l.layer_phase_j(fc1, Phase::infer), 0.0);
  EXPECT_DOUBLE_EQ(l.phase_j(Phase::deploy), 5e-9 + 2e-12);
  EXPECT_DOUBLE_EQ(l.component_static_j(host), 5e-12);
  EXPECT_EQ(l.component_static_j(prog), 0.0);
}

TEST(EnergyLedger, BreakdownsSumToTotal) {
  EnergyLedger l;
  const char* comps[] = {"dac", "array", "adc", "digital", "bus", "sram", "host", "programming"};
  int ids[8];
  for (int i = 0; i < 8; ++i) ids[i] = l.component(comps[i]);
  int layers[5];
  for (int i = 0; i < 5; ++i) layers[i] = l.layer("layer" + std::to_string(i));
  uint64_t t = 0;
  for (int step = 0; step < 2000; ++step) {
    const Phase ph = step < 300 ? Phase::deploy : Phase::infer;
    if (step == 300) l.set_phase(Phase::infer, t);
    const int c = ids[step % 8];
    const int ly = step % 3 == 0 ? 0 : layers[step % 5];
    l.post(c, ly, ph, 1e-12 * (1.0 + 0.37 * (step % 11)), 1 + step % 4);
    if (step % 97 == 0) l.set_static_power(ids[step % 8], 1e-6 * (step % 13), t);
    t += 1237;
    l.advance(t);
  }
  const double total = l.total_j();
  ASSERT_GT(total, 0.0);
  double sum_comp = 0, sum_layer = 0, sum_phase = 0, sum_cp = 0, sum_lp = 0;
  for (int c = 0; c < l.component_count(); ++c) {
    sum_comp += l.component_j(c);
    for (Phase p : {Phase::deploy, Phase::infer}) sum_cp += l.component_phase_j(c, p);
  }
  for (int ly = 0; ly < l.layer_count(); ++ly) {
    sum_layer += l.layer_j(ly);
    for (Phase p : {Phase::deploy, Phase::infer}) sum_lp += l.layer_phase_j(ly, p);
  }
  for (Phase p : {Phase::deploy, Phase::infer}) sum_phase += l.phase_j(p);
  expect_close(sum_comp, total);
  expect_close(sum_layer, total);
  expect_close(sum_phase, total);
  expect_close(sum_cp, total);
  expect_close(sum_lp, total);

  const nlohmann::json j = l.to_json();
  EXPECT_DOUBLE_EQ(j.at("total_j").get<double>(), total);
  double js = 0;
  for (const auto& [name, v] : j.at("by_component").items()) js += v.get<double>();
  expect_close(js, total);
  js = 0;
  for (const auto& [name, v] : j.at("by_layer").items()) js += v.get<double>();
  expect_close(js, total);
  js = 0;
  for (const auto& [name, v] : j.at("by_phase").items()) js += v.get<double>();
  expect_close(js, total);
  js = 0;
  for (const auto& [name, per] : j.at("by_component_phase").items())
    for (const auto& [ph, v] : per.items()) js += v.get<double>();
  expect_close(js, total);
  js = 0;
  for (const auto& [name, per] : j.at("by_layer_phase").items())
    for (const auto& [ph, v] : per.items()) js += v.get<double>();
  expect_close(js, total);
  EXPECT_TRUE(j.at("by_layer").contains("(none)"));
  EXPECT_EQ(j.at("by_component").size(), 8u);
  EXPECT_EQ(j.at("time_ps").get<uint64_t>(), t);
  EXPECT_TRUE(j.at("event_counts").contains("adc"));
}

TEST(EnergyLedger, MisuseIsRefused) {
  EnergyLedger l;
  const int c = l.component("adc");
  EXPECT_THROW(l.post(c, 0, Phase::infer, -1e-12), std::invalid_argument);
  EXPECT_THROW(l.post(c, 0, Phase::infer, std::nan("")), std::invalid_argument);
  EXPECT_THROW(l.post(c, 0, Phase::infer, std::numeric_limits<double>::infinity()),
               std::invalid_argument);
  EXPECT_THROW(l.post(c + 1, 0, Phase::infer, 1e-12), std::invalid_argument);
  EXPECT_THROW(l.post(c, 7, Phase::infer, 1e-12), std::invalid_argument);
  EXPECT_THROW(l.set_static_power(c, -1.0), std::invalid_argument);
  EXPECT_THROW(l.set_static_power(-1, 1.0), std::invalid_argument);
  l.advance(100);
  EXPECT_THROW(l.advance(99), std::invalid_argument);
  EXPECT_THROW(l.set_phase(Phase::infer, 50), std::invalid_argument);
  EXPECT_EQ(l.phase(), Phase::deploy);
  l.post(c, 0, Phase::infer, 0.0);  // zero is fine
  EXPECT_EQ(l.total_j(), 0.0);
}

TEST(EnergyLedger, CompensatedSumKeepsTinyEvents) {
  EnergyLedger l;
  const int c = l.component("digital");
  l.post(c, 0, Phase::infer, 1.0);
  for (int i = 0; i < 1000000; ++i) l.post(c, 0, Phase::infer, 1e-17);
  expect_close(l.total_j(), 1.0 + 1e-11, 4);
}
