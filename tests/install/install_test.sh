#!/usr/bin/env bash
# The installed package, as a user gets it (ctest install.*, label install):
#   1. `cmake --install BUILD --prefix $TMP/prefix`, and the layout it must have;
#   2. nothing installed names the source or build tree (binaries, libraries, CMake files);
#   3. an out-of-tree user project (tests/install/user_project) configured with
#      find_package(aimc) against the prefix and built: its own sc_main (my_chip: a chip from an
#      installed preset, an inference through the driver, checked against the golden model) and a
#      firmware made by aimc_add_firmware (my_fw, run by the installed runner with its default
#      platform, i.e. the installed preset; with the RISC-V toolchain also my_fw.rv32.elf, built
#      from the installed driver and RV32 kit and checked by tests/firmware/rv32_elf_check.sh);
#   4. the installed aimc run from a folder outside both trees with no --platform/--model finds
#      the installed preset and model; a copy of aimc away from the prefix is refused with a
#      message naming where it looked; AIMC_DATA_DIR overrides; the prefix still works once moved.
#
#   install_test.sh BUILD_DIR SOURCE_DIR CMAKE C_COMPILER CXX_COMPILER [LAUNCHER] [SANITIZE]
#     SANITIZE  the build's AIMC_SANITIZE (non-empty: sanitizer runtimes put source file names
#               into the binaries, so step 2 checks only the CMake files)
# Exit 0 on pass, 1 on failure. Cleans up its temporary folder in every case.
set -u
BUILD=$1 SRC=$2 CMAKE=$3 CC_=$4 CXX_=$5 LAUNCHER=${6:-} SANITIZE=${7:-}
DATA=${AIMC_DATA:-/usr/share/datasets/fashion-mnist}
export SC_COPYRIGHT_MESSAGE=DISABLE
unset AIMC_DATA_DIR
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aimc-install-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix

fail() {
  echo "FAIL: $*" >&2
  for f in "$TMP"/*.log "$TMP"/out.txt "$TMP"/err.txt; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}
t0=$(date +%s)
step() { echo "[$(($(date +%s) - t0)) s] $*"; }

step "install into $PREFIX"
"$CMAKE" --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || fail "cmake --install"
for f in bin/aimc bin/aimc-regs \
         lib/cmake/aimc/aimcConfig.cmake lib/cmake/aimc/aimcConfigVersion.cmake \
         lib/cmake/aimc/aimcTargets.cmake lib/cmake/aimc/AimcFirmware.cmake \
         include/aimc/chip/chip.h include/aimc/config/platform_config.h include/aimc/aimc_driver.h \
         include/aimc/aimc_fw.h include/aimc/aimc_rv32.h include/aimc/aimc_hal_rv32.h \
         share/aimc/firmware/src/aimc_driver.c share/aimc/firmware/riscv/aimc_hal_rv32.c \
         share/aimc/firmware/riscv/aimc_rv_vector.S share/aimc/platforms/membrain-3x4.yaml \
         share/aimc/platforms/models/fashion_mnist_mlp.onnx; do
  [ -e "$PREFIX/$f" ] || fail "the package has no $f"
done
ls "$PREFIX"/lib/libaimc_*.a >/dev/null 2>&1 || fail "the package has no libaimc_*.a"

step "no path of the source or build tree in the package"
if [ -n "$SANITIZE" ]; then
  CHECKED=("$PREFIX"/lib/cmake/aimc/*)
  echo "  (sanitizer build: CMake files only)"
else
  CHECKED=("$PREFIX"/bin/* "$PREFIX"/lib/*.a "$PREFIX"/lib/cmake/aimc/*)
fi
for f in "${CHECKED[@]}"; do
  for tree in "$(cd "$SRC" && pwd -P)" "$(cd "$BUILD" && pwd -P)" "$SRC" "$BUILD"; do
    if grep -aqF -- "$tree" "$f"; then fail "$f names $tree"; fi
  done
done

step "configure and build the user project against the package"
LAUNCH=()
if [ -n "$LAUNCHER" ]; then
  LAUNCH=(-DCMAKE_C_COMPILER_LAUNCHER="$LAUNCHER" -DCMAKE_CXX_COMPILER_LAUNCHER="$LAUNCHER")
  export CCACHE_BASEDIR=$TMP  # the prefix's path changes each run
fi
UP=$TMP/user-build
"$CMAKE" -S "$SRC/tests/install/user_project" -B "$UP" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_C_COMPILER="$CC_" -DCMAKE_CXX_COMPILER="$CXX_" "${LAUNCH[@]}" \
  >"$TMP/configure.log" 2>&1 || fail "configuring the user project"
"$CMAKE" --build "$UP" -j2 >"$TMP/build.log" 2>&1 || fail "building the user project"
# With the RISC-V toolchain (AIMC_RISCV_FIRMWARE AUTO found it), the installed kit and driver
# built my_fw.rv32.elf for the core's default memory map.
if grep -qF "aimc: RV32 firmware (<name>.rv32.elf): on" "$TMP/configure.log"; then
  step "the user's firmware for the RV32 core, from the installed kit"
  RV_BIN=$(dirname "$(sed -n 's/^AIMC_RISCV_GCC:FILEPATH=//p' "$UP/CMakeCache.txt")")
  "$SRC/tests/firmware/rv32_elf_check.sh" "$UP/my_fw.rv32.elf" "$RV_BIN/riscv64-unknown-elf-readelf" \
    "$RV_BIN/riscv64-unknown-elf-nm" 0x20000000 1048576 0x80000000 67108864 >"$TMP/rv32.log" 2>&1 ||
    fail "my_fw.rv32.elf: $(cat "$TMP/rv32.log")"
  tail -n 1 "$TMP/rv32.log"
fi
for exe in my_chip my_fw my_fw-remote; do
  [ -x "$UP/$exe" ] || fail "the user project made no $exe"
done

step "the user's sc_main: a chip from an installed preset, one inference"
(cd "$TMP" && "$UP/my_chip" membrain-3x4.yaml 8) >"$TMP/out.txt" 2>"$TMP/err.txt" ||
  fail "my_chip exited with $?"
grep -q '^my_chip: membrain-3x4, 8 inputs x 10 outputs' "$TMP/out.txt" || fail "my_chip: no summary"
grep -q '^my_chip: inference ok$' "$TMP/out.txt" || fail "my_chip: inference not ok"
cat "$TMP/out.txt"

step "the user's firmware, run by the installed runner on its default (installed) preset"
(cd "$TMP" && "$UP/my_fw" --report "$TMP/fw.json") >"$TMP/out.txt" 2>"$TMP/err.txt" ||
  fail "my_fw exited with $?"
grep -q '^my_fw: 12 tiles of 400 x 400' "$TMP/out.txt" || fail "my_fw: no chip identification"
grep -q 'DMA round trip of 256 bytes through the SRAM: ok' "$TMP/out.txt" || fail "my_fw: DMA"
grep -q "\"platform_file\": \"$PREFIX/share/aimc/platforms/membrain-3x4.yaml\"" "$TMP/fw.json" ||
  fail "my_fw did not run the installed preset: $(grep platform_file "$TMP/fw.json")"
"$UP/my_fw" --help >"$TMP/out.txt" 2>&1 || fail "my_fw --help"
grep -q "Data folder now: $PREFIX/share/aimc " "$TMP/out.txt" || fail "my_fw --help: data folder"

step "the installed aimc, from a folder outside both trees, no --platform or --model"
mkdir -p "$TMP/elsewhere"
INPUT=()
if [ ! -e "$DATA/t10k-images-idx3-ubyte.gz" ] && [ ! -e "$DATA/t10k-images-idx3-ubyte" ]; then
  INPUT=(--input random)  # no Fashion-MNIST: the presets are what this checks
fi
(cd "$TMP/elsewhere" && "$PREFIX/bin/aimc" run --limit 20 --no-progress "${INPUT[@]}") \
  >"$TMP/out.txt" 2>"$TMP/err.txt" || fail "aimc run exited with $?"
R=$TMP/elsewhere/out/report.json
[ -s "$R" ] || fail "aimc run wrote no out/report.json in its working folder"
grep -q "\"platform_file\": \"$PREFIX/share/aimc/platforms/membrain-3x4.yaml\"" "$R" ||
  fail "aimc run: not the installed preset: $(grep platform_file "$R")"
grep -q "\"model\": \"$PREFIX/share/aimc/platforms/models/fashion_mnist_mlp.onnx\"" "$R" ||
  fail "aimc run: not the installed model: $(grep '"model"' "$R")"
grep -q '"images": 20' "$R" || fail "aimc run: not 20 images"
head -n 3 "$TMP/out.txt"
"$PREFIX/bin/aimc" run --help >"$TMP/out.txt" 2>&1 || fail "aimc run --help"
grep -q "FILE=$PREFIX/share/aimc/platforms/membrain-3x4.yaml" "$TMP/out.txt" ||
  fail "aimc run --help does not show the installed preset as the default"
grep -q "Data folder now: $PREFIX/share/aimc (from the install prefix)" "$TMP/out.txt" ||
  fail "aimc run --help does not say where the data folder is"

step "a copy of aimc away from the prefix: refused, naming where it looked; AIMC_DATA_DIR"
mkdir -p "$TMP/lonely"
cp "$PREFIX/bin/aimc" "$TMP/lonely/aimc"
(cd "$TMP/lonely" && ./aimc run --limit 1) >"$TMP/out.txt" 2>"$TMP/err.txt"
rc=$?
[ $rc -eq 2 ] || fail "aimc without a data folder: exit $rc, expected 2"
for want in "no --platform given" "\$AIMC_DATA_DIR: not set" "$TMP/share/aimc (installed layout)" \
            "$TMP/lonely/aimc-data-dir (build tree)"; do
  grep -qF -- "$want" "$TMP/err.txt" || fail "aimc without a data folder: message lacks '$want'"
done
AIMC_DATA_DIR=$TMP/nothing "$TMP/lonely/aimc" config >"$TMP/out.txt" 2>"$TMP/err.txt"
[ $? -eq 2 ] && grep -qF "\$AIMC_DATA_DIR=$TMP/nothing: does not exist" "$TMP/err.txt" ||
  fail "a wrong AIMC_DATA_DIR is not named"
AIMC_DATA_DIR=$PREFIX/share/aimc "$TMP/lonely/aimc" config >"$TMP/out.txt" 2>"$TMP/err.txt" ||
  fail "aimc config with AIMC_DATA_DIR"
grep -Eq '^name: "?membrain-3x4"?$' "$TMP/out.txt" || fail "aimc config with AIMC_DATA_DIR: wrong preset"

step "the prefix, moved: still finds its presets"
mv "$PREFIX" "$TMP/moved"
"$TMP/moved/bin/aimc" config >"$TMP/out.txt" 2>"$TMP/err.txt" || fail "aimc config after moving"
grep -Eq '^name: "?membrain-3x4"?$' "$TMP/out.txt" || fail "aimc config after moving: wrong preset"

step "PASS"
