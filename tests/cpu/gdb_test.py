#!/usr/bin/python3
"""The RV32 core's GDB stub and instruction accounting, end to end (tests/cpu/CMakeLists.txt).

    gdb_test.py CASE --aimc AIMC --firmware ELF [--regs-header aimc_regs.h] [--break FUNC]
                [--args ARG ...] [--infer] [--require-gdb]

--infer: the firmware is the kit's infer example; its arguments are made here (an image from
`aimc compile`, two vectors of input codes).

Starts `aimc fw run ELF --gdb 0 --gdb-port-file F` (loopback only), talks to it with
gdb-multiarch (cases session, watch, monitor) or with the raw remote protocol (cases protocol,
steps, interrupt, kill, detach, fault), and compares with a run without a debugger. Cases quantum
and timer check the core's accounting and interrupt delivery without a debugger.

Every process gets a deadline; the script stops what it started (by pid) and fails rather than
hang. Exit 0 pass, 1 fail, 77 skip (gdb-multiarch missing and --require-gdb not given).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 90  # the whole case; ctest's TIMEOUT is larger
TMP = tempfile.mkdtemp(prefix="aimc-gdb-test.")
ENV = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
started = []  # processes this script started


def cleanup():
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)


def fail(msg, *logs):
    print("FAIL: " + msg, file=sys.stderr)
    for name, text in logs:
        print("--- " + name, file=sys.stderr)
        print(text, file=sys.stderr)
    cleanup()
    sys.exit(1)


def remaining():
    return max(1.0, START + DEADLINE_S - time.monotonic())


# ---- The ELF's symbols (for addresses the raw-protocol cases need) -----------------------------

def elf_symbols(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        fail(path + " is not a 32-bit ELF")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    syms = {}
    for s in sections:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[s[6]]
        for off in range(s[4], s[4] + s[5], 16):
            name, value = struct.unpack_from("<II", data, off)
            end = data.index(b"\0", strtab[4] + name)
            syms[data[strtab[4] + name:end].decode()] = value
    return syms


# ---- Running the VP ----------------------------------------------------------------------------

def run_plain(args, extra=()):
    """aimc fw run without a debugger: (rc, stdout, stderr, report)."""
    report = os.path.join(TMP, "plain.json")
    p = subprocess.run([A.aimc, "fw", "run", A.firmware, "--report", report, *extra, "--", *args],
                       capture_output=True, text=True, env=ENV, timeout=remaining())
    rep = json.load(open(report)) if os.path.exists(report) else None
    return p.returncode, p.stdout, p.stderr, rep


class Vp:
    """aimc fw run --gdb 0 in the background; its port from --gdb-port-file."""

    def __init__(self, args, extra=()):
        self.report = os.path.join(TMP, "gdb.json")
        port_file = os.path.join(TMP, "port")
        for f in (port_file, self.report):
            if os.path.exists(f):
                os.remove(f)
        self.out = open(os.path.join(TMP, "vp.out"), "w+")
        self.err = open(os.path.join(TMP, "vp.err"), "w+")
        self.p = subprocess.Popen([A.aimc, "fw", "run", A.firmware, "--gdb", "0", "--gdb-port-file", port_file,
                                   "--report", self.report, *extra, "--", *args],
                                  stdout=self.out, stderr=self.err, env=ENV)
        started.append(self.p)
        t0 = time.monotonic()
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if self.p.poll() is not None:
                fail("aimc fw run --gdb exited before listening", *self.logs())
            if time.monotonic() - t0 > 20:
                fail("no port file within 20 s", *self.logs())
            time.sleep(0.05)
        self.port = int(open(port_file).read())

    def wait(self):
        try:
            rc = self.p.wait(timeout=remaining())
        except subprocess.TimeoutExpired:
            fail("aimc fw run --gdb did not end", *self.logs())
        rep = json.load(open(self.report)) if os.path.exists(self.report) else None
        return rc, self.stdout(), self.stderr(), rep

    def stdout(self):
        self.out.seek(0)
        return self.out.read()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def logs(self):
        return [("aimc stdout", self.stdout()), ("aimc stderr", self.stderr())]


def listening_on_loopback_only(port):
    """The stub's socket is bound to 127.0.0.1 (from /proc/net/tcp: local address of the listener)."""
    try:
        lines = open("/proc/net/tcp").read().splitlines()[1:]
    except OSError:
        return True  # cannot tell here
    for line in lines:
        local = line.split()[1]
        addr, p = local.split(":")
        if int(p, 16) == port and line.split()[3] == "0A":  # LISTEN
            return addr == "0100007F"
    return True  # already accepted: nothing listens any more


# ---- gdb-multiarch ------------------------------------------------------------------------------

def gdb(port, commands):
    exe = shutil.which("gdb-multiarch")
    args = [exe, "-batch", "-nx", "-ex", "set pagination off", "-ex", "target remote 127.0.0.1:%d" % port]
    for c in commands:
        args += ["-ex", c]
    args.append(A.firmware)
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=remaining())
    except subprocess.TimeoutExpired as e:
        fail("gdb-multiarch did not finish", ("gdb output", (e.stdout or b"").decode(errors="replace")))
    return p.stdout + p.stderr


def need_gdb():
    if shutil.which("gdb-multiarch"):
        return
    if A.require_gdb:
        fail("gdb-multiarch is missing (AIMC_REQUIRE_GDB is on; Debian package gdb-multiarch)")
    print("SKIP: gdb-multiarch is not installed (Debian package gdb-multiarch)")
    cleanup()
    sys.exit(77)


def prepare_infer():
    """infer's arguments: a deployment image from `aimc compile` and two vectors of input codes,
    as many per vector as the image's program says the network takes."""
    model = os.path.join(TMP, "model.aimg")
    p = subprocess.run([A.aimc, "compile", "-o", model], capture_output=True, text=True, env=ENV,
                       timeout=remaining())
    if p.returncode != 0:
        fail("aimc compile failed", ("output", p.stdout + p.stderr))
    data = open(model, "rb").read()  # docs/deployment-image.md
    count, = struct.unpack_from("<I", data, 12)
    in_features = None
    for k in range(count):
        kind, _, _, _, offset, _ = struct.unpack_from("<IIIIQQ", data, 32 + 32 * k)
        if kind == 3:  # PROGRAM: in_features at 16 of its header
            in_features, = struct.unpack_from("<I", data, offset + 16)
            break
    if not in_features:
        fail("no PROGRAM section in the compiled image")
    codes = os.path.join(TMP, "codes.bin")
    with open(codes, "wb") as f:
        f.write(bytes((i * 7) % 16 for i in range(2 * in_features)))
    A.args = [model, "--codes", codes, "--limit", "2", *A.args]


def chip_id():
    text = open(A.regs_header).read()
    m = re.search(r"#define AIMC_CHIP_ID (0x[0-9A-Fa-f]+)u", text)
    if not m:
        fail("no AIMC_CHIP_ID in " + A.regs_header)
    return int(m.group(1), 16)


def same_run(plain, debugged, logs):
    """The debugged run retired the same instructions in the same simulated time and energy."""
    rc0, out0, _, rep0 = plain
    rc1, out1, _, rep1 = debugged
    if out1 != out0:
        fail("the firmware's output changed under the debugger", ("without", out0), ("with", out1), *logs)
    if rc1 != rc0:
        fail("exit code %d under the debugger, %d without" % (rc1, rc0), *logs)
    if rep0 is None or rep1 is None:
        fail("a report is missing", *logs)
    for key in ("instructions", "cycles", "chip_accesses", "interrupts"):
        if rep1["cpu"][key] != rep0["cpu"][key]:
            fail("cpu.%s %s under the debugger, %s without" % (key, rep1["cpu"][key], rep0["cpu"][key]), *logs)
    if rep1["time_ns"] != rep0["time_ns"]:
        fail("time_ns %s under the debugger, %s without" % (rep1["time_ns"], rep0["time_ns"]), *logs)
    if rep1["energy_j"]["total"] != rep0["energy_j"]["total"]:
        fail("energy %s under the debugger, %s without" % (rep1["energy_j"]["total"], rep0["energy_j"]["total"]),
             *logs)


# ---- The raw remote protocol --------------------------------------------------------------------

def checksum(payload):
    return "%02x" % (sum(payload) & 0xFF)


class Rsp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=remaining())
        self.buf = b""
        self.console = ""

    def raw(self, data):
        self.s.sendall(data)

    def byte(self):
        while not self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError("the stub closed the connection")
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def expect_ack(self, want=b"+"):
        b = self.byte()
        if b != want:
            raise AssertionError("expected %r, got %r" % (want, b + self.buf))

    def packet(self):
        """The next packet (acknowledged); O packets are collected in self.console."""
        while True:
            b = self.byte()
            if b != b"$":
                raise AssertionError("expected a packet, got %r" % (b + self.buf))
            data = b""
            while True:
                b = self.byte()
                if b == b"#":
                    break
                data += b
            cs = self.byte() + self.byte()
            if cs.decode() != checksum(data):
                raise AssertionError("bad checksum from the stub: %r" % data)
            self.raw(b"+")
            text = data.decode()
            if text.startswith("O") and text != "OK":
                self.console += bytes.fromhex(text[1:]).decode()
                continue
            return text

    def send(self, payload):
        data = payload.encode() if isinstance(payload, str) else payload
        self.raw(b"$" + data + b"#" + checksum(data).encode())
        self.expect_ack()

    def cmd(self, payload):
        self.send(payload)
        return self.packet()

    def reg(self, n):
        return struct.unpack("<I", bytes.fromhex(self.cmd("p%x" % n)))[0]

    def close(self):
        self.s.close()


# ---- The cases ----------------------------------------------------------------------------------

def case_session():
    need_gdb()
    plain = run_plain(A.args)
    vp = Vp(A.args)
    if not listening_on_loopback_only(vp.port):
        fail("the stub listens on more than 127.0.0.1", *vp.logs())
    out = gdb(vp.port, ["break " + A.brk, "continue", "monitor reg ID", "info registers pc", "stepi",
                        "info registers pc", "x/4wx $sp", "continue"])
    debugged = vp.wait()
    logs = [("gdb", out)] + vp.logs()
    if not re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?%s \(" % re.escape(A.brk), out):
        fail("the breakpoint at %s was not hit" % A.brk, *logs)
    m = re.search(r"^ID \(0x000\) = (0x[0-9a-f]{8})", out, re.M)
    if not m or int(m.group(1), 16) != chip_id():
        fail("monitor reg ID does not read AIMC_CHIP_ID 0x%08X" % chip_id(), *logs)
    pcs = re.findall(r"^pc\s+(0x[0-9a-f]+)", out, re.M)
    syms = elf_symbols(A.firmware)
    # GDB puts a function's breakpoint after its prologue.
    if len(pcs) != 2 or not syms[A.brk] <= int(pcs[0], 16) < syms[A.brk] + 64:
        fail("info registers pc does not show %s (0x%x)" % (A.brk, syms[A.brk]), *logs)
    if pcs[1] == pcs[0]:
        fail("stepi did not move the pc", *logs)
    if not re.search(r"^0x[0-9a-f]+:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}$", out, re.M):
        fail("x/4wx $sp printed no four words", *logs)
    want = "exited normally" if plain[0] == 0 else "exited with code %02o" % plain[0]
    if want not in out:
        fail("GDB did not see the exit (%s)" % want, *logs)
    same_run(plain, debugged, logs)


def case_watch():
    need_gdb()
    plain = run_plain(A.args)
    vp = Vp(A.args)
    out = gdb(vp.port, ["watch watched", "continue", "info registers pc", "delete", "continue"])
    debugged = vp.wait()
    logs = [("gdb", out)] + vp.logs()
    m = re.search(r"Old value = 0\s+New value = (\d+)", out)
    if not m:
        fail("the write watchpoint did not report the old and new value", *logs)
    if "checksum %s watched %s" % (m.group(1), m.group(1)) not in debugged[1]:
        fail("the new value GDB saw is not what the firmware stored", *logs)
    if not re.search(r"in touch \(", out):
        fail("the watchpoint did not stop in touch()", *logs)
    same_run(plain, debugged, logs)


def case_monitor():
    need_gdb()
    vp = Vp(A.args)
    cmds = ["break " + A.brk, "continue", "monitor help", "monitor regs", "monitor reg status", "monitor reg NOSUCH", "monitor reg",
            "monitor temp 85", "monitor reg TEMP_MC", "monitor temp hot", "monitor age 30d", "monitor age 30 days", "monitor age 1 2 3",
            "monitor energy", "monitor time", "monitor fault dead-column 0 3", "monitor fault stuck-low 99 0 0",
            "monitor fault stuck-high 0 1 2 neg", "monitor fault adc-offset 0 1 2.5", "monitor fault adc-offset 0 1",
            "monitor fault melt 0", "monitor frobnicate", "continue"]
    out = gdb(vp.port, cmds)
    rc, _, _, _ = vp.wait()
    logs = [("gdb", out)] + vp.logs()
    expect = [
        (r"monitor commands \(aimc fw run --gdb", "help lists the commands"),
        (r"^  ID\s+0x000\s+0x41494d43$", "regs lists ID"),
        (r"^STATUS \(0x024\) = 0x[0-9a-f]{8}", "reg status (any case) reads STATUS"),
        (r"'NOSUCH' is no chip register", "an unknown register is named"),
        (r"usage: monitor reg NAME", "reg without a name gets its usage"),
        (r"die temperature 85\.000 C", "temp sets the temperature"),
        (r"^TEMP_MC \(0x108\) = 0x00014c08 = 85000$", "the sensor reads the new temperature"),
        (r"'hot': expected a temperature", "a bad temperature is refused"),
        (r"the cells aged by 2\.592e\+06 s", "age 30d ages the cells by 30 days"),
        (r"monitor age: age: expected a duration such as 1h, 30min", "a bad duration is refused as --at refuses it"),
        (r"monitor age: usage: monitor age DURATION", "age with three words gets its usage"),
        (r"energy at [0-9.]+ ns, by component:", "energy prints the ledger"),
        (r"^  cpu\s+[1-9][0-9.]* [pnum]J$", "energy has the cpu's, not zero, with its unit"),
        (r"^  total\s+[0-9.]+ [pnum]?J$", "energy has a total"),
        (r"^time [1-9][0-9.]* ns \(the core; SystemC is at [0-9.]+ ns\), [1-9]\d* instructions retired", "time"),
        (r"tile 0: column 3 dead", "dead-column"),
        (r"tile '99': expected 0\.\.", "a tile out of range is refused"),
        (r"tile 0: cell \(1, 2, neg\) stuck high", "stuck-high"),
        (r"tile 0: column 1's ADC offset now [0-9.-]+ LSB", "adc-offset"),
        (r"usage: monitor fault", "a fault with missing arguments gets its usage"),
        (r"unknown fault kind 'melt'", "an unknown fault kind is named"),
        (r"unknown command 'frobnicate' \(monitor help lists them\)", "an unknown command is named"),
    ]
    for pattern, what in expect:
        if not re.search(pattern, out, re.M):
            fail("monitor: " + what + " (no match for /" + pattern + "/)", *logs)
    if rc != 0:
        fail("the firmware did not run to its end after the monitor commands (rc %d)" % rc, *logs)


def case_protocol():
    vp = Vp(A.args)
    r = Rsp(vp.port)
    logs = vp.logs
    try:
        r.raw(b"garbage before the first packet\r\n")
        r.raw(b"$?#00")  # bad checksum
        r.expect_ack(b"-")
        if r.cmd("?") != "T05thread:1;":
            fail("'?' does not answer the initial stop", *logs())
        r.raw(b"$m" + b"0" * 20000 + b"#" + checksum(b"m" + b"0" * 20000).encode())  # longer than PacketSize
        r.expect_ack()
        if r.packet() != "E01":
            fail("an oversized packet is not refused with E01", *logs())
        sup = r.cmd("qSupported:swbreak+;hwbreak+")
        if "PacketSize=4000" not in sup or "swbreak+" not in sup:
            fail("qSupported: " + sup, *logs())
        xml = r.cmd("qXfer:features:read:target.xml:0,3ff")
        if "riscv:rv32" not in xml:
            fail("target.xml does not name riscv:rv32: " + xml, *logs())
        syms = elf_symbols(A.firmware)
        if r.reg(0x20) != syms["_start"] and r.reg(0x20) != syms.get("__start", -1):
            fail("the core did not halt at the entry point (pc 0x%x)" % r.reg(0x20), *logs())
        if r.cmd("m40000000,4") != "434d4941":
            fail("the chip's ID register is not readable through debug transport", *logs())
        if r.cmd("m0c200004,4") != "E01":
            fail("a read of the PLIC claim register (side effect) is not refused", *logs())
        if r.cmd("m00000000,4") != "E01":
            fail("a read of unmapped memory is not refused", *logs())
        if r.cmd("M40000000,4:00000000") != "E01":
            fail("a write to the chip's registers is not refused", *logs())
        if r.cmd("QStartNoAckMode") != "OK":
            fail("QStartNoAckMode refused", *logs())
        r.raw(b"$qC#" + checksum(b"qC").encode())  # no ack expected from now on
        if r.packet() != "QC1":
            fail("qC after QStartNoAckMode", *logs())
        r.raw(b"$D#44")
        if r.packet() != "OK":
            fail("detach", *logs())
    except (AssertionError, EOFError, OSError) as e:
        fail("protocol: %s" % e, *logs())
    rc, out, err, _ = vp.wait()
    if rc != 0 or "checksum" not in out or "detached; the firmware runs on" not in err:
        fail("after D the firmware did not run to its end", *logs())
    if "1 malformed packet(s) refused" not in err and "2 malformed packet(s) refused" not in err:
        fail("the refused packets are not counted on stderr", *logs())


def case_steps():
    """Breakpoints, single steps (s, vCont;s) and a watchpoint keep the run identical."""
    plain = run_plain(A.args)
    syms = elf_symbols(A.firmware)
    vp = Vp(A.args)
    r = Rsp(vp.port)
    logs = vp.logs
    try:
        if r.cmd("Z0,%x,2" % syms["checksum"]) != "OK":
            fail("Z0 refused", *logs())
        stop = r.cmd("c")
        if stop != "T05thread:1;swbreak:;" or r.reg(0x20) != syms["checksum"]:
            fail("c did not stop at checksum: %s pc 0x%x" % (stop, r.reg(0x20)), *logs())
        r.cmd("z0,%x,2" % syms["checksum"])
        pcs = [r.reg(0x20)]
        for i in range(40):
            stop = r.cmd("s" if i % 2 else "vCont;s:1;c")
            if not stop.startswith("T05"):
                fail("a step answered " + stop, *logs())
            pcs.append(r.reg(0x20))
        if len(set(pcs)) < 3:
            fail("steps did not move the pc: %s" % pcs, *logs())
        if r.cmd("Z2,%x,4" % syms["watched"]) != "OK":
            fail("Z2 refused", *logs())
        stop = r.cmd("c")
        if stop != "T05thread:1;watch:%x;" % syms["watched"]:
            fail("the write watchpoint answered " + stop, *logs())
        if r.cmd("m%x,4" % syms["watched"]) != "00000000":
            fail("at the watchpoint the store has already happened", *logs())
        if not (syms["touch"] <= r.reg(0x20) < syms["touch"] + 16):
            fail("the watchpoint did not stop in touch (pc 0x%x)" % r.reg(0x20), *logs())
        r.cmd("z2,%x,4" % syms["watched"])
        r.cmd("s")
        if r.cmd("m%x,4" % syms["watched"]) == "00000000":
            fail("a step over the store did not store", *logs())
        end = r.cmd("c")
        want = "W%02x" % plain[0]
        if end != want:
            fail("the exit was reported as %s, not %s" % (end, want), *logs())
    except (AssertionError, EOFError, OSError) as e:
        fail("steps: %s" % e, *logs())
    debugged = vp.wait()
    same_run(plain, debugged, [("stderr", debugged[2])])


def case_interrupt():
    syms = elf_symbols(A.firmware)
    vp = Vp(["spin"])
    r = Rsp(vp.port)
    logs = vp.logs
    try:
        r.send("c")
        time.sleep(0.5)
        r.raw(b"\x03")
        stop = r.packet()
        if stop != "T02thread:1;":
            fail("Ctrl-C answered %s, not T02" % stop, *logs())
        pc = r.reg(0x20)
        if not (syms["main"] <= pc < syms["main"] + 0x400):
            fail("interrupted outside main's spin loop (pc 0x%x)" % pc, *logs())
        if r.cmd("M%x,4:01000000" % syms["release"]) != "OK":
            fail("cannot write `release`", *logs())
        end = r.cmd("c")
        if end != "W00":
            fail("after the release the run ended with " + end, *logs())
    except (AssertionError, EOFError, OSError) as e:
        fail("interrupt: %s" % e, *logs())
    rc, out, _, _ = vp.wait()
    if rc != 0 or "released after spinning" not in out:
        fail("the firmware was not interrupted while spinning", *logs())


def case_kill():
    vp = Vp(A.args)
    r = Rsp(vp.port)
    r.send("k")
    rc, out, err, _ = vp.wait()
    if rc != 137 or "killed from the debugger" not in err or "checksum" in out:
        fail("kill: rc %d (want 137)" % rc, *vp.logs())


def case_detach():
    plain = run_plain(A.args)
    vp = Vp(A.args)
    r = Rsp(vp.port)
    r.close()  # the connection closes without a word: the firmware runs on
    debugged = vp.wait()
    if "the connection closed; the firmware runs on" not in debugged[2]:
        fail("a closed connection was not taken as a detach", *vp.logs())
    same_run(plain, debugged, vp.logs())


def case_fault():
    vp = Vp(["fault"])
    r = Rsp(vp.port)
    logs = vp.logs
    try:
        stop = r.cmd("c")
        if stop != "T0bthread:1;":
            fail("a load access fault answered %s, not T0b (SIGSEGV)" % stop, *logs())
        if "load access fault" not in r.console:
            fail("the fault's message did not reach GDB's console: %r" % r.console, *logs())
        end = r.cmd("c")
        if end != "X0b":
            fail("after the fault the run ended with %s, not X0b" % end, *logs())
    except (AssertionError, EOFError, OSError) as e:
        fail("fault: %s" % e, *logs())
    rc, _, err, _ = vp.wait()
    if rc != 1 or "load access fault" not in err:
        fail("the fault did not end the run with exit code 1 and the message", *logs())


def case_quantum():
    """A firmware retires the same instructions whatever the quantum (the core counted a block it
    stopped before, and livelocked on a block longer than the quantum)."""
    counts = {}
    for q in ("100", "1000", "100000"):
        rc, out, err, rep = run_plain(A.args, ["--set", "cpu.quantum_ns=" + q])
        if rc != 0 or rep is None:
            fail("the run with quantum %s ns failed (rc %d)" % (q, rc), ("stdout", out), ("stderr", err))
        counts[q] = rep["cpu"]["instructions"]
    if len(set(counts.values())) != 1:
        fail("instructions depend on the quantum: %s" % counts)


def case_timer():
    """An interrupt made pending by a device write is taken once, and the instructions before the
    write in its block run once (the core used to restart the block)."""
    rc, out, err, _ = run_plain(["timer"])
    if rc != 0 or "timer: x 2 ticks 1" not in out:
        fail("timer: rc %d" % rc, ("stdout", out), ("stderr", err))


def case_csr():
    """An interrupt taken right after a CSR write (mid-block) adds the same instructions (its
    handler's) as one taken at a block boundary: the core counted the rest of the interrupted
    block twice. The trace shows each handler from its entry to its mret."""
    counts = {}
    for mode in ("csr-first", "csr-last", "csr-first-quiet", "csr-last-quiet"):
        trace = os.path.join(TMP, mode + ".json")
        rc, out, err, rep = run_plain([mode], ["--trace", trace])
        quiet = mode.endswith("-quiet")
        want = "csr: x 32 ticks %d" % (0 if quiet else 1)
        if rc != 0 or rep is None or want not in out:
            fail("%s: rc %d" % (mode, rc), ("stdout", out), ("stderr", err))
        counts[mode] = rep["cpu"]["instructions"]
        if rep["cpu"]["interrupts"] != (0 if quiet else 1):
            fail("%s: %d interrupts taken" % (mode, rep["cpu"]["interrupts"]))
        events = json.load(open(trace))["traceEvents"]
        handlers = [e for e in events if e.get("name", "").startswith("handler")]
        if quiet:
            continue
        if len(handlers) != 1 or handlers[0].get("ph") != "X" or not handlers[0].get("dur", 0) > 0:
            fail("%s: expected one handler span (entry to mret) in the trace, got %s" % (mode, handlers))
        if not rep["cpu"]["handler_ns"] > 0 or rep["cpu"]["handler_exits"] != 1:
            fail("%s: cpu.handler_ns %s, handler_exits %s" % (mode, rep["cpu"]["handler_ns"],
                                                              rep["cpu"]["handler_exits"]))
    first = counts["csr-first"] - counts["csr-first-quiet"]
    last = counts["csr-last"] - counts["csr-last-quiet"]
    print("instructions the interrupt added: %d at a block boundary, %d after the CSR write (%s)"
          % (first, last, counts))
    if first != last:
        fail("the interrupt added %d instructions at a block boundary but %d after the CSR write"
             % (first, last))


def case_options():
    """--gdb and --gdb-port-file in the help, and refused when wrong, before anything runs."""
    def aimc(*args):
        return subprocess.run([A.aimc, "fw", "run", *args], capture_output=True, text=True, env=ENV,
                              timeout=remaining())
    h = aimc("--help")
    for what in ("--gdb", "--gdb-port-file", "Debugging with GDB"):
        if what not in h.stdout:
            fail("aimc fw run --help does not mention " + what, ("help", h.stdout))
    p = aimc(A.firmware, "--gdb-port-file", os.path.join(TMP, "p"))
    if p.returncode == 0 or "--gdb-port-file: only with --gdb PORT" not in p.stderr:
        fail("--gdb-port-file without --gdb was not refused", ("stderr", p.stderr))
    p = aimc(A.firmware, "--gdb", "70000")
    if p.returncode == 0 or "--gdb" not in p.stderr:
        fail("--gdb 70000 was not refused", ("stderr", p.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    p = aimc(A.firmware, "--gdb", str(port))
    busy.close()
    if p.returncode == 0 or "cannot listen on 127.0.0.1:%d" % port not in p.stderr:
        fail("a port in use was not refused with a message", ("stderr", p.stderr))


CASES = {"session": case_session, "watch": case_watch, "monitor": case_monitor, "protocol": case_protocol,
         "steps": case_steps, "interrupt": case_interrupt, "kill": case_kill, "detach": case_detach,
         "fault": case_fault, "quantum": case_quantum, "timer": case_timer, "csr": case_csr,
         "options": case_options}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--aimc", required=True)
    ap.add_argument("--firmware", required=True)
    ap.add_argument("--regs-header", default="")
    ap.add_argument("--break", dest="brk", default="checksum")
    ap.add_argument("--args", nargs="*", default=[])
    ap.add_argument("--infer", action="store_true")
    ap.add_argument("--require-gdb", action="store_true")
    A = ap.parse_args()
    START = time.monotonic()
    signal.signal(signal.SIGALRM, lambda *_: fail("the case ran past its %d s deadline" % DEADLINE_S))
    signal.alarm(DEADLINE_S + 5)
    try:
        if A.infer:
            prepare_infer()
        CASES[A.case]()
    except subprocess.TimeoutExpired as e:
        fail("a process ran past the deadline: %s" % e)
    cleanup()
    print("PASS: " + A.case)
