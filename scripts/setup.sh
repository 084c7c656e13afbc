#!/usr/bin/env bash
# Installs the Debian packages aimc-vp needs to build, test and run. Idempotent: packages that
# are already installed are not touched, and apt-get runs only when something is missing.
set -euo pipefail

# What building, testing and `aimc run` need.
PACKAGES=(
  build-essential cmake pkg-config
  libsystemc-dev libyaml-cpp-dev libeigen3-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev googletest
  libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev
  dataset-fashion-mnist python3 python3-numpy
  # The digest test (scripts/check_digests.py) builds MobileNet-v1 with scripts/workloads.py.
  python3-torch python3-onnx
  # The sanitizer pass of scripts/test.sh and the libFuzzer targets (scripts/fuzz.sh) build
  # with clang and its sanitizer and libFuzzer runtimes.
  clang libclang-rt-14-dev
  # Firmware for the VP's RV32IMAC core: aimc_add_firmware builds <name>.rv32.elf with the
  # cross compiler and picolibc (docs/firmware.md, "Firmware on the RV32 core"); the core is
  # built on Unicorn; gdb-multiarch debugs firmware on it.
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf libunicorn-dev gdb-multiarch
  # aimc sweep --backend slurm, tested on a single-node Slurm (tests/scripts/slurm_sweep.sh), and
  # aimc plot (scripts/plot_sweep.py).
  slurm-wlm munge python3-matplotlib
  # The Python module aimc (platforms/python, docs/python.md); python3-yaml for its hardware-aware
  # training layers (aimc_hwa reads `aimc config`).
  pybind11-dev python3-dev python3-yaml
)
# `scripts/setup.sh --python` adds what the retention plot needs.
if [ "${1:-}" = "--python" ]; then
  PACKAGES+=(python3-matplotlib)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} required packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
