#!/usr/bin/python3
"""Writes the seed corpus of the device fuzzer (tests/fuzz/fuzz_device.cpp) to
tests/fuzz/corpus/device/: one small input per kind of operation, in the fuzzer's encoding
(docs/fuzzing.md). Run it again after changing the encoding: /usr/bin/python3 tests/fuzz/make_device_seeds.py
"""
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "device")

# Operation codes, in the order of enum Op in fuzz_device.cpp.
(WRITE, READ, HOST_FILL, DMA, CHAIN, WEIGHTS, PROG_CMD, PROGRAM, SEQ_START, QUEUE, POWER, STEP,
 WAIT_IRQ, TEMPERATURE, RESET, RAW) = range(16)

# The register selector: the register table's registers in order, then each tile's window
# registers (2 tiles: the fuzzer's platform), as fuzz_device.cpp lists them.
TABLE = re.findall(r"^\s*R\((\w+),", open(os.path.join(ROOT, "model/chip/register_table.h")).read(), re.M)
TILE = ["STATUS", "FLAGS", "ROWS_USED", "COLS_USED", "MVMS", "ADC_CLIPS", "CYCLES_MAX", "WORN_CELLS",
        "TEST", "UNCONVERGED", "CAL", "CAL_NA", "CAL_REF", "GAIN", "TRIM", "RESULT"]
COLUMN_REGS = ("TRIM", "RESULT")


def u8(v): return struct.pack("<B", v & 0xFF)
def u16(v): return struct.pack("<H", v & 0xFFFF)
def u32(v): return struct.pack("<I", v & 0xFFFFFFFF)


def reg(name, tile=None, column=0):
    if tile is None:
        return u8(TABLE.index(name))
    sel = len(TABLE) + tile * len(TILE) + TILE.index(name)
    return u8(sel) + (u8(column) if name in COLUMN_REGS else b"")


def anywhere(addr):  # a selector >= 0xF8: any 32-bit offset
    return u8(0xF8) + u32(addr)


def write(r, v): return u8(WRITE) + r + u32(v)
def read(r): return u8(READ) + r
def host_fill(at, data): return u8(HOST_FILL) + u16(at) + u8(len(data)) + data
def step(units_50ns): return u8(STEP) + u16(units_50ns)
def wait_irq(enable, units_100ns): return u8(WAIT_IRQ) + u8(enable) + u16(units_100ns)

SRAM, SEQ_MEM, STAGING, TILE_MEM = 4, 0, 1, 2  # device selectors (sel % 8)


def dma(host, dev_sel, dev_off, length, to_host=False):
    return u8(DMA) + u8(1 if to_host else 0) + u16(host) + u8(dev_sel) + u16(dev_off) + u16(length)


def chain(base, descs, end=0):
    """descs: (to_host, host, dev_sel, dev_off, row_bytes, rows, host_stride, dev_stride)."""
    b = u8(CHAIN) + u8((len(descs) - 1) | (end << 3)) + u16(base)
    for to_host, host, sel, off, row_bytes, rows, hs, ds in descs:
        f = (1 if to_host else 0) | (2 if rows != 1 else 0)
        b += u8(f) + u16(host) + u8(sel) + u16(off) + u16(row_bytes)
        if rows != 1:
            b += u8(rows)
        b += u16(hs) + u16(ds)
    return b


def weights(tile, rows, cols, levels, verify=False, wait=True):
    b = u8(WEIGHTS) + u8((1 if verify else 0) | (2 if wait else 0)) + u8(tile) + u8(rows) + u8(cols)
    return b + bytes(levels[i % len(levels)] for i in range(rows * cols))


def prog_cmd(cmd, tile, row=0, col=0, side=0):
    return u8(PROG_CMD) + u8(cmd | side << 6) + u8(tile) + u8(row) + u8(col)


def program(slot, kind, tile=0, pokes=()):
    b = u8(PROGRAM) + u8(slot) + u8(kind) + u8(tile) + u8(len(pokes))
    return b + b"".join(u16(w) + u32(v) for w, v in pokes)


def seq_start(batch, wait=True): return u8(SEQ_START) + u8(batch | (0x80 if wait else 0))


def queue(base, entries, tail):
    """entries: (irq, in_host, out_host, batch)."""
    b = u8(QUEUE) + u8(len(entries) - 1) + u16(base)
    for irq, inp, out, batch in entries:
        b += u8(1 if irq else 0) + u16(inp) + u16(out) + u8(batch)
    return b + u8(tail)


def raw(flags, r, v): return u8(RAW) + u8(flags) + r + u32(v)

# Levels as the fuzzer reads them: byte b is level b % (2 L - 1) - (L - 1), L = 2^6 (6-bit cells).
LEVELS = [63 + 20, 63 - 20, 63 + 5, 63, 63 + 40, 63 - 1]

SEEDS = {
    "registers": b"".join([
        read(reg("ID")), write(reg("SCRATCH"), 0xA5A5F00D), read(reg("SCRATCH")),
        write(reg("IRQ_ENABLE"), 0xFF), read(reg("STATUS")), write(reg("ERROR_CODE"), 0xFFFFFFFF),
        write(reg("GAIN", tile=1), 0x8000), write(reg("TRIM", tile=0, column=3), 2),
        write(reg("TEST", tile=0), 1), read(reg("RESULT", tile=0, column=3)),
        write(reg("ID"), 0), read(anywhere(0x0F00)), write(reg("PROG_MAX_ITER"), 0),
        write(reg("PERF_CTRL"), 1), read(reg("PERF_TIME_NS_LO")),
    ]),
    "raw_access": b"".join([
        raw(0x00, reg("SCRATCH"), 0), raw(0x04, reg("SCRATCH"), 0), raw(0x01 | 0x08, reg("IRQ_ENABLE"), 1),
        raw(0x40, reg("SCRATCH"), 0), raw(0x20, reg("SCRATCH"), 0), raw(0x10 | 0x01, reg("SCRATCH"), 7),
        raw(0x02, reg("CTRL"), 0), read(reg("ERROR_CODE")),
    ]),
    "dma": b"".join([
        host_fill(0x100, bytes(range(32))), dma(0x100, SRAM, 0x40, 32), step(100),
        dma(0x200, SRAM, 0x40, 32, to_host=True), wait_irq(0x0A, 1000), read(reg("DMA_STATUS")),
        dma(0x300, SRAM, 0xFFF0, 64), wait_irq(0x08, 1000), dma(0x100, TILE_MEM, 0, 16),
        dma(0, SEQ_MEM, 0, 0), step(10),
    ]),
    "chain": b"".join([
        host_fill(0x400, bytes(range(64))),
        chain(0x800, [(False, 0x400, SRAM, 0, 16, 1, 0, 0), (False, 0x410, SRAM, 0x100, 8, 4, 8, 32),
                      (True, 0x600, SRAM, 0x100, 16, 1, 0, 0)]),
        wait_irq(0x0A, 2000), read(reg("DMA_DESC_DONE")),
        chain(0x900, [(False, 0x400, SRAM, 0, 16, 1, 0, 0)], end=1), step(2000),
    ]),
    "program_tile": b"".join([
        weights(0, 8, 4, LEVELS), read(reg("PROG_PULSES")), weights(0, 8, 4, LEVELS, verify=True),
        read(reg("PROG_VERIFY_FAILS")), prog_cmd(3, 0, row=1, col=2), step(200), read(reg("PROG_READ_PS")),
        write(reg("CAL", tile=0), 1), read(reg("CAL_NA", tile=0)), prog_cmd(4, 1), step(1000),
        prog_cmd(1, 5), read(reg("ERROR_CODE")),
    ]),
    "infer": b"".join([
        weights(0, 8, 4, LEVELS), program(0, 0), host_fill(0x100, bytes([10, 20, 30, 40, 50, 60, 70, 80])),
        dma(0x100, SRAM, 0, 8), wait_irq(0x02, 100), seq_start(1), read(reg("SEQ_LATENCY_NS")),
        dma(0x200, SRAM, 0x8000, 16, to_host=True), wait_irq(0x02, 100),
        weights(1, 8, 4, LEVELS), program(1, 1, tile=1), seq_start(2), program(2, 7), seq_start(3),
    ]),
    "digital_ops": b"".join([
        program(0, 2), seq_start(1), program(1, 3), seq_start(4), program(2, 4), seq_start(2),
        program(3, 5), seq_start(1), program(4, 6), seq_start(1),
        program(5, 2, pokes=[(16 + 22, 3), (16 + 26, 1)]), seq_start(1), read(reg("ERROR_ADDR")),
    ]),
    # Issue 20's templates (248-250): an activation op, a MUL by a per-channel gate, an MVM with
    # column scales and an Elu.
    "activations": b"".join([
        program(0, 248), seq_start(1), program(1, 249), seq_start(2),
        weights(0, 8, 4, LEVELS), program(2, 250), seq_start(1), read(reg("ERROR_CODE")),
    ]),
    "queue": b"".join([
        weights(0, 8, 4, LEVELS), program(0, 0),
        queue(0x2000, [(True, 0x100, 0x200, 1), (True, 0x120, 0x240, 2), (False, 0, 0, 0)], 2),
        wait_irq(0x10, 5000), read(reg("CQ_HEAD")), read(reg("CQ_DONE")),
        queue(0x3000, [(False, 0x100, 0x200, 9)], 1), step(1000), read(reg("CQ_STATUS")),
    ]),
    "power_and_resets": b"".join([
        u8(POWER) + u8(1), u8(POWER) + u8(2), dma(0x100, SRAM, 0, 16), prog_cmd(4, 0), seq_start(1, wait=False),
        u8(POWER) + u8(3), u8(POWER) + u8(0), u8(TEMPERATURE) + u8(140), wait_irq(0x80, 100),
        write(reg("TEMP_ALARM_MC"), 200000), dma(0x100, SRAM, 0, 4096), u8(RESET) + u8(2), u8(RESET) + u8(1),
        step(5000), u8(RESET) + u8(2), u8(TEMPERATURE) + u8(65),
    ]),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
