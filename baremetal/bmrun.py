#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Build and run one bare-metal guest of the qemu-system tier (docs/baremetal.md).

usage: baremetal/bmrun.py --target NAME [--scale X] [--out DIR] [--seed N] [--keep-going]

Builds baremetal/ for NAME with make, boots it under qemu-system with multi-threaded TCG,
and turns the guest's console into results:
  DIR/console.log   everything the guest printed (PTXN-BOOT, PTXN-CASE, PTXN-RESULT ...)
  DIR/cases.jsonl   one JSON object per PTXN-CASE line, plus "ok" for convenience
  DIR/junit.xml     one <testcase> per case (a skipped case is <skipped/>)
  DIR/summary.json  target, qemu command, verdict, counts, seconds
DIR defaults to build/NAME. --scale 1.0 is the full size: 10^5 hardware A/D events per
strategy in the race suite; ./matrix --quick passes 0.1. Exit status 0 when the guest
printed PTXN-RESULT PASS and every case passed.

./matrix imports this module (run_target) for the *-system rows.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (qemu binary, machine, cpu, smp, extra qemu args, guest arguments)
# No NIC and no VGA: their option ROMs (ipxe-qemu) are only a Recommends of Debian's
# qemu-system packages, which ./matrix setup installs without recommends.
# flush_each: arm64 invalidates by VA after every commit (TLBI VALE1IS is cheap under
# TCG); x86 sends one shootdown IPI per round (an IPI round trip costs milliseconds).
# riscv sends its SBI RFENCE after every commit: per round, the two harts rarely ran at
# the same time on a loaded host and race-merge/-auto saw 0-490 in-window updates at
# --quick instead of 95-1046 (docs/baremetal.md, "Measured").
_X86_EXIT = ["-vga", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
TARGETS = {
    "aarch64-system": ("qemu-system-aarch64", "virt", "max", 3, [], "flush_each=1"),
    "aarch64-system-nohafdbs": ("qemu-system-aarch64", "virt", "cortex-a57", 2, [],
                                "flush_each=1"),
    "x86_64-system": ("qemu-system-x86_64", "pc", "max", 2, _X86_EXIT, "flush_each=0"),
    "i686-system": ("qemu-system-i386", "pc", "max", 2, _X86_EXIT, "flush_each=0"),
    # S-mode under QEMU's default OpenSBI (-bios default: opensbi-riscv64-generic-
    # fw_dynamic from qemu-system-data); the exit status comes from the sifive_test device.
    "riscv64-system": ("qemu-system-riscv64", "virt", "rv64", 2, [], "flush_each=1"),
}
# QEMU's exit status for (pass, fail) where the guest sets it: isa-debug-exit gives
# (value << 1) | 1 for the values 0 and 1; the sifive_test finisher gives 0 (FINISHER_PASS)
# and the code written with FINISHER_FAIL, 3 here. Other rows end by firmware power-off.
EXIT_STATUS = {"x86_64-system": (1, 3), "i686-system": (1, 3), "riscv64-system": (0, 3)}
FULL_EVENTS = 100000        # hardware A/D events per strategy at --scale 1.0
FULL_DOWNGRADE_ROUNDS = 300
FULL_DIFF_ACCESSES = 20000
TIMEOUT = 900               # seconds for one guest run (a hang is a failure)


def qemu_command(name, elf, scale, seed):
    binary, machine, cpu, smp, extra, guest_args = TARGETS[name]
    events = max(1000, int(FULL_EVENTS * scale))
    rounds = max(20, int(FULL_DOWNGRADE_ROUNDS * scale))
    diff = max(500, int(FULL_DIFF_ACCESSES * scale))
    append = "events=%d downgrade_rounds=%d diff_accesses=%d seed=%d %s" % (
        events, rounds, diff, seed, guest_args)
    return [binary, "-M", machine, "-cpu", cpu, "-accel", "tcg,thread=multi",
            "-smp", str(smp), "-m", "128M", "-display", "none", "-monitor", "none",
            "-serial", "stdio", "-nic", "none", "-no-reboot"] + extra + [
                "-kernel", elf, "-append", append]


def build(name, out, log):
    cmd = ["make", "-s", "-C", HERE, "TARGET=" + name, "O=" + out]
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL).returncode


def parse_console(text):
    cases, result, panic = [], None, None
    for line in text.splitlines():
        line = line.strip("\r")
        if line.startswith("PTXN-CASE "):
            try:
                case = json.loads(line[len("PTXN-CASE "):])
            except ValueError:
                case = {"name": "(unparsable PTXN-CASE)", "status": "fail",
                        "first_failure": line[:200]}
            cases.append(case)
        elif line.startswith("PTXN-RESULT "):
            result = line.split()[1]
        elif line.startswith("PTXN-PANIC ") and panic is None:
            panic = line[len("PTXN-PANIC "):]
    return cases, result, panic


def write_junit(path, name, cases, extra_failure):
    suite = ET.Element("testsuite", name="ptxn.baremetal-" + name)
    for c in cases:
        tc = ET.SubElement(suite, "testcase", classname="baremetal." + name,
                           name=c.get("name", "?"), time=str(c.get("seconds", 0)))
        if c.get("status") == "skip":
            ET.SubElement(tc, "skipped", message=c.get("first_failure", ""))
        elif c.get("status") != "pass":
            ET.SubElement(tc, "failure", message=c.get("first_failure", ""))
    if extra_failure:
        tc = ET.SubElement(suite, "testcase", classname="baremetal." + name, name="guest")
        ET.SubElement(tc, "failure", message=extra_failure)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="unicode")


def write_case_log(name, cases, problem, path=None, test="baremetal"):
    """./matrix report's case log (tests/case_log.h's record format), when it asks for one:
    `path`, else PTXN_CASE_LOG names the file; test is "baremetal" (examples/linux-module/
    kmrun.py: "linux"), message the first failure."""
    path = path or os.environ.get("PTXN_CASE_LOG")
    if not path:
        return
    recs = [dict(c, test=test, message=c.get("first_failure") or None,
                 format=name, traps=None) for c in cases]
    if problem:
        recs.append({"test": test, "name": "guest", "status": "fail",
                     "message": problem, "format": name})
    with open(path, "a") as f:
        for r in recs:
            f.write(json.dumps(r, sort_keys=True) + "\n")


def guest_problem(name, hang, panic, result, cases, rc):
    """What went wrong with the guest run as a whole (None: nothing), beyond its cases:
    a hang, a panic, no PTXN-RESULT PASS, or an exit status that contradicts it."""
    if hang:
        return "guest did not finish within %ds" % TIMEOUT
    if panic:
        return "guest panic: " + panic
    if result != "PASS" and not any(c.get("status") == "fail" for c in cases):
        return "guest ended without PTXN-RESULT PASS (qemu exit %s)" % rc
    if name in EXIT_STATUS and rc not in EXIT_STATUS[name]:
        return "unexpected qemu exit status %s" % rc
    if name in EXIT_STATUS and result == "PASS" and rc != EXIT_STATUS[name][0]:
        return "guest printed PTXN-RESULT PASS but qemu exited %s" % rc
    return None


def run_target(name, out=None, scale=1.0, seed=1, case_log=None):
    """Build and run one guest. Returns a dict (also written to out/summary.json):
    status ok|FAIL|build failed, cases, passed, failed, skipped, failures[(name, text)],
    seconds, qemu (the command). case_log: the report's case log to append to (default:
    $PTXN_CASE_LOG, if set)."""
    out, log, t0, summary = begin_run(name, out)
    if build(name, out, log) != 0:
        return build_failed(out, summary, log, "make", t0)
    cmd = qemu_command(name, os.path.join(out, "guest.elf"), scale, seed)
    summary["qemu"] = " ".join(cmd)
    text, rc, hang = run_guest(cmd)
    record_console(name, out, text, hang, summary, case_log, rc=rc)
    summary["seconds"] = time.monotonic() - t0
    return _finish(out, summary)


# The steps every guest runner shares (this file's run_target and
# examples/linux-module/kmrun.py's).

def begin_run(name, out, **extra):
    """The output directory (created), its empty build.log, the start time and a fresh
    summary (with `extra` keys) for one guest run."""
    out = os.path.abspath(out or os.path.join(ROOT, "build", name))
    os.makedirs(out, exist_ok=True)
    log = os.path.join(out, "build.log")
    open(log, "w").close()
    summary = {"target": name, "status": "ok", "cases": 0, "passed": 0, "failed": 0,
               "skipped": 0, "failures": [], "seconds": 0.0, "qemu": None}
    summary.update(extra)
    return out, log, time.monotonic(), summary


def build_failed(out, summary, log, step, t0):
    """Finish a run whose build `step` failed: one failed case with the log's tail."""
    with open(log, errors="replace") as f:
        tail = "\n".join(f.read().splitlines()[-25:])
    summary.update(status="build failed", cases=1, failed=1,
                   failures=[(step, tail)], seconds=time.monotonic() - t0)
    return _finish(out, summary)


def run_guest(cmd):
    """Boot a guest: (console text, qemu's exit status or None, whether it hung)."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        return p.stdout.decode(errors="replace"), p.returncode, False
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b"").decode(errors="replace"), None, True


def record_console(name, out, text, hang, summary, case_log=None, test="baremetal", rc=None):
    """A guest's console -> out/console.log, out/cases.jsonl, out/junit.xml, the report's
    case log, and the counts in `summary` (also for examples/linux-module/kmrun.py).
    What guest_problem() finds (a hang, a panic, no PTXN-RESULT PASS, an exit status `rc`
    that contradicts it) adds a failing "guest" case."""
    with open(os.path.join(out, "console.log"), "w") as f:
        f.write(text)
    cases, result, panic = parse_console(text)
    with open(os.path.join(out, "cases.jsonl"), "w") as f:
        for c in cases:
            f.write(json.dumps(c, sort_keys=True) + "\n")
    problem = guest_problem(name, hang, panic, result, cases, rc)
    for c in cases:
        summary["cases"] += 1
        st = c.get("status")
        key = {"pass": "passed", "skip": "skipped"}.get(st, "failed")
        summary[key] += 1
        if key == "failed":
            summary["failures"].append((c.get("name", "?"), c.get("first_failure", "")))
    if problem:
        summary["cases"] += 1
        summary["failed"] += 1
        tail = "\n".join(text.splitlines()[-15:])
        summary["failures"].append(("guest", problem + "\n" + tail))
    if summary["failed"]:
        summary["status"] = "FAIL"
    write_junit(os.path.join(out, "junit.xml"), name, cases, problem)
    write_case_log(name, cases, problem, case_log, test)


def _finish(out, summary):
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    return summary


def main(argv):
    p = argparse.ArgumentParser(prog="baremetal/bmrun.py")
    p.add_argument("--target", required=True, choices=sorted(TARGETS))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out")
    a = p.parse_args(argv)
    s = run_target(a.target, a.out, a.scale, a.seed)
    out = os.path.abspath(a.out or os.path.join(ROOT, "build", a.target))
    with open(os.path.join(out, "cases.jsonl")) if os.path.exists(
            os.path.join(out, "cases.jsonl")) else open(os.devnull) as f:
        for line in f:
            c = json.loads(line)
            print("%-22s %-5s %s" % (c.get("name"), c.get("status"),
                                     " ".join("%s=%s" % (k, c[k]) for k in (
                                         "transactions", "hw_events", "lost_updates",
                                         "spurious_faults", "seconds") if k in c)))
    for n, text in s["failures"]:
        print("--- %s\n%s" % (n, text))
    print("%s: %d passed, %d failed (%.1fs)" % (a.target, s["passed"], s["failed"],
                                                s["seconds"]))
    return 0 if s["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
