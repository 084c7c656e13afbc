#!/usr/bin/env bash
# Checks that a firmware ELF built by aimc_add_firmware's RV32 form fits the VP's core
# (firmware_stubs/include/aimc_rv32.h; docs/firmware.md, "Firmware on the RV32 core"):
#   - an ELF32 little-endian RISC-V executable, compressed instructions, soft-float ABI, no F/D
#     in its architecture attribute (the core is RV32IMAC);
#   - the entry point in ROM;
#   - every loadable segment inside ROM or RAM: where it runs (VirtAddr + MemSiz) and where its
#     bytes are loaded (PhysAddr + FileSiz; .data's image sits in ROM and crt0 copies it);
#     executable segments in ROM;
#   - the symbols the kit provides: _start, main, aimc_fw_main, aimc_hal_rv32 and the trap vector
#     (4-byte aligned, as mtvec's direct mode needs); the kit's stdout, not picolibc's (whose
#     stream object __stdio is then absent); __stack at the end of RAM.
#
#   rv32_elf_check.sh ELF READELF NM ROM_BASE ROM_BYTES RAM_BASE RAM_BYTES
# Exit 0 on pass, 1 on failure (each failure said on stderr).
set -u
if [ $# -ne 7 ]; then
  echo "usage: rv32_elf_check.sh ELF READELF NM ROM_BASE ROM_BYTES RAM_BASE RAM_BYTES" >&2
  exit 1
fi
ELF=$1 READELF=$2 NM=$3
ROM_BASE=$(($4)) ROM_END=$(($4 + $5)) RAM_BASE=$(($6)) RAM_END=$(($6 + $7))
FAILS=0
fail() {
  echo "FAIL: $ELF: $*" >&2
  FAILS=$((FAILS + 1))
}
[ -f "$ELF" ] || { echo "FAIL: $ELF does not exist" >&2; exit 1; }

HDR=$("$READELF" -hW "$ELF") || { echo "FAIL: $ELF: readelf -h failed" >&2; exit 1; }
field() { echo "$HDR" | sed -n "s/^ *$1: *//p"; }
[ "$(field Class)" = ELF32 ] || fail "class '$(field Class)', expected ELF32"
case "$(field Data)" in *"little endian"*) ;; *) fail "data '$(field Data)', expected little endian" ;; esac
case "$(field Type)" in EXEC*) ;; *) fail "type '$(field Type)', expected EXEC" ;; esac
[ "$(field Machine)" = RISC-V ] || fail "machine '$(field Machine)', expected RISC-V"
case "$(field Flags)" in *RVC*"soft-float ABI"*) ;; *) fail "flags '$(field Flags)', expected RVC and the soft-float ABI" ;; esac
ARCH=$("$READELF" -A "$ELF" | sed -n 's/.*Tag_RISCV_arch: "\(.*\)"/\1/p')
case "$ARCH" in
  rv32i*) ;;
  *) fail "architecture '$ARCH', expected rv32i..." ;;
esac
for ext in m a c; do
  case "_${ARCH#rv32i*_}" in *"_${ext}"[0-9]*) ;; *) fail "architecture '$ARCH' lacks $ext" ;; esac
done
case "_${ARCH#rv32i*_}" in *_f[0-9]* | *_d[0-9]*) fail "architecture '$ARCH' has floating point; the core has none" ;; esac

in_rom() { [ "$1" -ge "$ROM_BASE" ] && [ "$2" -le "$ROM_END" ]; }
in_ram() { [ "$1" -ge "$RAM_BASE" ] && [ "$2" -le "$RAM_END" ]; }
ENTRY=$(($(field "Entry point address")))
in_rom "$ENTRY" "$((ENTRY + 2))" || fail "entry point $(printf 0x%08x "$ENTRY") is outside ROM"

LOADS=0
while read -r type off vaddr paddr filesz memsz flags; do
  [ "$type" = LOAD ] || continue
  LOADS=$((LOADS + 1))
  vaddr=$((vaddr)) paddr=$((paddr)) filesz=$((filesz)) memsz=$((memsz))
  seg=$(printf "segment at 0x%08x (load 0x%08x, %d bytes in the file, %d in memory)" \
        "$vaddr" "$paddr" "$filesz" "$memsz")
  if [ "$memsz" -gt 0 ] && ! in_rom "$vaddr" $((vaddr + memsz)) && ! in_ram "$vaddr" $((vaddr + memsz)); then
    fail "$seg runs outside ROM and RAM"
  fi
  if [ "$filesz" -gt 0 ] && ! in_rom "$paddr" $((paddr + filesz)) && ! in_ram "$paddr" $((paddr + filesz)); then
    fail "$seg is loaded outside ROM and RAM"
  fi
  case "$flags" in *E*) in_rom "$vaddr" $((vaddr + memsz)) || fail "$seg is executable outside ROM" ;; esac
done < <("$READELF" -lW "$ELF" | sed -n 's/^ *\(LOAD .*\)$/\1/p' | sed 's/ R E / RE /; s/ RW / RW /; s/ R / R /')
[ "$LOADS" -gt 0 ] || fail "no loadable segment"

SYMS=$("$NM" "$ELF") || { echo "FAIL: $ELF: nm failed" >&2; exit 1; }
sym() { echo "$SYMS" | awk -v s="$1" '$3 == s && $2 ~ /^[TtDdBbRrA]$/ { print $1; exit }'; }
for s in _start main aimc_fw_main aimc_hal_rv32 aimc_rv_trap_vector aimc_rv_trap_dispatch stdout; do
  [ -n "$(sym "$s")" ] || fail "no symbol $s"
done
VEC=$(sym aimc_rv_trap_vector)
if [ -n "$VEC" ] && [ $((0x$VEC % 4)) -ne 0 ]; then fail "aimc_rv_trap_vector at 0x$VEC is not 4-byte aligned"; fi
[ -z "$(sym __stdio)" ] || fail "picolibc's stdio streams (__stdio) are linked instead of the kit's"
STACK=$(sym __stack)
[ -n "$STACK" ] && [ $((0x$STACK)) -eq "$RAM_END" ] ||
  fail "__stack at 0x${STACK:-none}, expected the end of RAM $(printf 0x%08x "$RAM_END")"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed" >&2
  exit 1
fi
echo "$ELF: RV32IMAC ELF, entry $(printf 0x%08x "$ENTRY"), $LOADS loadable segments inside ROM $(printf 0x%08x-0x%08x "$ROM_BASE" "$ROM_END") and RAM $(printf 0x%08x-0x%08x "$RAM_BASE" "$RAM_END"), kit symbols present"
