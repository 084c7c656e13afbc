#!/usr/bin/env bash
# aimc_add_firmware's RV32 form from a firmware team's own folder (ctest firmware.rv32.CMake):
# tests/firmware/rv32_project, copied to a temporary folder, configured with the Makefile
# generator against this tree's AimcFirmware.cmake and the kit:
#   1. with the toolchain: <name>-rv32 builds <name>.rv32.elf in the runtime output folder, the
#      target property and the variable name it, NO_RV32 makes none; the ELF passes
#      rv32_elf_check.sh for the ROM and RAM sizes given (RV32_ROM_KIB 256, RV32_RAM_KIB 2048) and
#      has the stack given (RV32_STACK_KIB 64); an edit of a header found through INCLUDE_DIRS
#      rebuilds it; a ROM too small for the code fails the link;
#   2. AUTO without the toolchain: configures, says why it is off, makes no RV32 target;
#      ON without it: stops with the apt-get line; OFF: off; a bad AIMC_RISCV_FIRMWARE value, a
#      size that is no number and a stack as large as RAM stop the configure with a message.
#
#   rv32_cmake_test.sh SOURCE_DIR CMAKE RISCV_GCC READELF NM
# Exit 0 on pass, 1 on failure. Cleans up its temporary folder in every case.
set -u
SRC=$1 CMAKE=$2 GCC=$3 READELF=$4 NM=$5
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aimc-rv32-cmake.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cp -r "$SRC/tests/firmware/rv32_project" "$TMP/proj"
NONE=$TMP/nowhere/riscv64-unknown-elf-gcc

fail() {
  echo "FAIL: $*" >&2
  for f in "$TMP"/*.log; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}
# conf NAME ARGS...: configures $TMP/proj into $TMP/NAME; output in $TMP/NAME.log.
conf() {
  local name=$1
  shift
  "$CMAKE" -S "$TMP/proj" -B "$TMP/$name" -G "Unix Makefiles" \
    -DAIMC_FIRMWARE_KIT_DIR="$SRC/firmware_stubs" "$@" >"$TMP/$name.log" 2>&1
}
expect_refused() {  # expect_refused NAME MESSAGE ARGS...
  local name=$1 msg=$2
  shift 2
  conf "$name" "$@" && fail "$name: the configure succeeded"
  # CMake wraps an error message's lines: compare with the lines joined.
  tr '\n' ' ' <"$TMP/$name.log" | tr -s ' ' | grep -qF -- "$msg" || fail "$name: no message '$msg'"
  rm -f "$TMP/$name.log"
}

echo "1. with the toolchain"
conf good -DAIMC_RISCV_GCC="$GCC" || fail "configure with $GCC"
grep -qF "aimc: RV32 firmware (<name>.rv32.elf): on" "$TMP/good.log" || fail "no 'on' message"
"$CMAKE" --build "$TMP/good" --target fw-rv32 >"$TMP/build.log" 2>&1 || fail "building fw-rv32"
ELF=$TMP/good/bin/fw.rv32.elf
[ -f "$ELF" ] || fail "no $ELF (the runtime output folder of the host form)"
grep -qxF "property: $ELF" "$TMP/good/rv32-report.txt" || fail "AIMC_RV32_ELF does not name $ELF"
grep -qxF "variable: $ELF" "$TMP/good/rv32-report.txt" || fail "fw_RV32_ELF does not name $ELF"
grep -qxF "host_only-rv32: 0" "$TMP/good/rv32-report.txt" || fail "NO_RV32 made an RV32 target"
"$(dirname "$0")/rv32_elf_check.sh" "$ELF" "$READELF" "$NM" 0x20000000 $((256 * 1024)) \
  0x80000000 $((2048 * 1024)) >"$TMP/check.log" 2>&1 || fail "rv32_elf_check.sh"
STACK=$("$NM" "$ELF" | awk '$3 == "__stack_size" { print $1 }')
[ "$STACK" = 00010000 ] || fail "__stack_size 0x$STACK, expected 0x00010000 (RV32_STACK_KIB 64)"
grep -aq 'fw argv\[' "$ELF" || fail "the ELF lacks the firmware's format string"
sed -i 's/"fw"/"fw-edited"/' "$TMP/proj/inc/fw_config.h"
"$CMAKE" --build "$TMP/good" --target fw-rv32 >"$TMP/build.log" 2>&1 || fail "rebuilding fw-rv32"
grep -aq 'fw-edited argv\[' "$ELF" || fail "editing inc/fw_config.h did not rebuild $ELF"
conf tiny-rom -DAIMC_RISCV_GCC="$GCC" -DROM_KIB=4 || fail "configure with RV32_ROM_KIB 4"
"$CMAKE" --build "$TMP/tiny-rom" --target fw-rv32 >"$TMP/tiny-rom-build.log" 2>&1 &&
  fail "fw-rv32 linked into a ROM of 4 KiB"
grep -q "overflowed\|will not fit" "$TMP/tiny-rom-build.log" || fail "a too small ROM: no overflow message"
rm -f "$TMP"/*.log

echo "2. without the toolchain, and refused settings"
conf auto-missing -DAIMC_RISCV_GCC="$NONE" || fail "AUTO without the toolchain: the configure failed"
grep -qF "aimc: RV32 firmware (<name>.rv32.elf): off, " "$TMP/auto-missing.log" ||
  fail "AUTO without the toolchain: no 'off' message"
grep -qF "riscv64-unknown-elf-gcc not found (AIMC_RISCV_GCC=$NONE) (apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)" "$TMP/auto-missing.log" ||
  fail "AUTO without the toolchain: no reason or apt-get line"
grep -q "property:" "$TMP/auto-missing/rv32-report.txt" && fail "AUTO without the toolchain made fw-rv32"
rm -f "$TMP/auto-missing.log"
conf off -DAIMC_RISCV_GCC="$GCC" -DAIMC_RISCV_FIRMWARE=OFF || fail "OFF: the configure failed"
grep -qF "off (AIMC_RISCV_FIRMWARE=OFF)" "$TMP/off.log" || fail "OFF: no 'off' message"
grep -q "property:" "$TMP/off/rv32-report.txt" && fail "OFF made fw-rv32"
rm -f "$TMP/off.log"
expect_refused on-missing "AIMC_RISCV_FIRMWARE=ON, but riscv64-unknown-elf-gcc not found (AIMC_RISCV_GCC=$NONE). On Debian: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf" \
  -DAIMC_RISCV_FIRMWARE=ON -DAIMC_RISCV_GCC="$NONE"
expect_refused bad-mode "AIMC_RISCV_FIRMWARE='maybe': expected AUTO, ON or OFF" \
  -DAIMC_RISCV_FIRMWARE=maybe
expect_refused bad-size "RV32_RAM_KIB '64M' is not a positive whole number of KiB" \
  -DAIMC_RISCV_GCC="$GCC" -DRAM_KIB=64M
expect_refused big-stack "RV32_STACK_KIB 4096 leaves no RAM of RV32_RAM_KIB 2048" \
  -DAIMC_RISCV_GCC="$GCC" -DSTACK_KIB=4096
expect_refused big-rom "does not fit the core's memory map" \
  -DAIMC_RISCV_GCC="$GCC" -DROM_KIB=1048576
echo "PASS"
