// The PLIC's gateway, priorities, threshold and claim/complete, and the CLINT's timer compare.
#include <gtest/gtest.h>

#include "aimc_rv32.h"
#include "cpu/rv_devices.h"

using aimc::cpu::Clint;
using aimc::cpu::Plic;

namespace {
uint32_t rd(Plic& p, uint32_t off) {
  uint32_t v = 0xDEAD;
  EXPECT_TRUE(p.read(off, v));
  return v;
}
}  // namespace

TEST(Plic, ALevelIsPendingButInterruptsOnlyWhenEnabledAndAboveThreshold) {
  Plic p;
  p.set_level(2, true);
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_PENDING), 1u << 2);
  EXPECT_FALSE(p.request());  // not enabled, priority 0
  ASSERT_TRUE(p.write(AIMC_RV_PLIC_ENABLE, 1u << 2));
  EXPECT_FALSE(p.request());  // priority 0 never interrupts
  ASSERT_TRUE(p.write(AIMC_RV_PLIC_PRIORITY + 4 * 2, 3));
  EXPECT_TRUE(p.request());
  ASSERT_TRUE(p.write(AIMC_RV_PLIC_THRESHOLD, 3));
  EXPECT_FALSE(p.request());  // at the threshold: masked
  ASSERT_TRUE(p.write(AIMC_RV_PLIC_THRESHOLD, 2));
  EXPECT_TRUE(p.request());
}

TEST(Plic, ClaimTakesTheBestSourceAndCompleteRependsAHighLevel) {
  Plic p;
  for (unsigned s : {1u, 5u, 6u}) {
    p.write(AIMC_RV_PLIC_PRIORITY + 4 * s, s == 5 ? 2 : 4);
    p.set_level(s, true);
  }
  p.write(AIMC_RV_PLIC_ENABLE, (1u << 1) | (1u << 5) | (1u << 6));
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_CLAIM), 1u);  // priority 4, tie with 6: the lowest id
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_CLAIM), 6u);
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_CLAIM), 5u);
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_CLAIM), 0u);  // nothing left
  EXPECT_FALSE(p.request());
  // In service, a source does not pend again however its level moves...
  p.set_level(6, false);
  p.set_level(6, true);
  EXPECT_EQ(p.pending() & (1u << 6), 0u);
  // ...until completed: then a level still high pends at once, a low one does not.
  p.set_level(5, false);
  p.write(AIMC_RV_PLIC_CLAIM, 6);
  p.write(AIMC_RV_PLIC_CLAIM, 5);
  EXPECT_EQ(p.pending(), 1u << 6);
  EXPECT_EQ(p.in_service(), 1u << 1);
  p.write(AIMC_RV_PLIC_CLAIM, 9);  // completing a source not in service is ignored
  EXPECT_EQ(p.in_service(), 1u << 1);
}

TEST(Plic, ALevelThatDropsBeforeTheClaimIsNoLongerPending) {
  Plic p;
  p.write(AIMC_RV_PLIC_PRIORITY + 4, 1);
  p.write(AIMC_RV_PLIC_ENABLE, 1u << 1);
  p.set_level(1, true);
  EXPECT_TRUE(p.request());
  p.set_level(1, false);  // the firmware cleared the chip's IRQ_STATUS bit by polling
  EXPECT_FALSE(p.request());
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_CLAIM), 0u);
}

TEST(Plic, ReservedOffsetsAndSourceZero) {
  Plic p;
  uint32_t v;
  EXPECT_FALSE(p.read(0x3000, v));
  EXPECT_FALSE(p.write(0x3000, 1));
  p.write(AIMC_RV_PLIC_PRIORITY, 7);  // source 0 has no priority
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_PRIORITY), 0u);
  p.write(AIMC_RV_PLIC_ENABLE, 0xFFFFFFFFu);
  EXPECT_EQ(rd(p, AIMC_RV_PLIC_ENABLE), 0xFFFFFFFEu);
  p.set_level(0, true);
  p.set_level(40, true);  // out of range: ignored
  EXPECT_EQ(p.pending(), 0u);
}

TEST(Clint, TimerPendsFromMtimecmpOnAndMtimeIsTheTimeGiven) {
  Clint c;
  EXPECT_FALSE(c.timer_pending(~0ull - 1));  // reset: never
  c.write(AIMC_RV_CLINT_MTIMECMP + 4, 0x1);
  c.write(AIMC_RV_CLINT_MTIMECMP, 0x10);
  EXPECT_EQ(c.mtimecmp(), 0x100000010ull);
  EXPECT_FALSE(c.timer_pending(0x10000000Full));
  EXPECT_TRUE(c.timer_pending(0x100000010ull));
  uint32_t lo = 0, hi = 0;
  ASSERT_TRUE(c.read(AIMC_RV_CLINT_MTIME, 0x123456789ull, lo));
  ASSERT_TRUE(c.read(AIMC_RV_CLINT_MTIME + 4, 0x123456789ull, hi));
  EXPECT_EQ(lo, 0x23456789u);
  EXPECT_EQ(hi, 0x1u);
  c.write(AIMC_RV_CLINT_MSIP, 3);
  EXPECT_TRUE(c.software_pending());
  uint32_t v;
  EXPECT_FALSE(c.read(0x8000, 0, v));
}
