# SPDX-License-Identifier: MIT
"""./matrix soak: the conformance race suites in a loop with fresh seeds (docs/reliability.md).

    ./matrix soak [--minutes N] [-t NAME] [--scale X] [--seed S]

Every round runs, one program at a time through `meson test` (so qemu-user targets run
under their cross file's exe_wrapper like in `./matrix test`), every race program the
target's build has:

    hwemu_race_*      emulated MMUs setting A/D against transactions (tests/test_hwemu_race.c)
    paravirt_race_*   the same through the paravirtual hypervisor (tests/test_paravirt_race.c)
    slot_contention*  the slot atomics, native and generic, under contention
                      (tests/test_differential_contention.c)

with PTXN_TEST_SEED set to a fresh random 64-bit seed and PTXN_CASE_LOG to a per-round
file (tests/case_log.h, the records ./matrix report reads). After each round it prints the
cumulative transactions, hardware A/D events and lost updates. Lost updates are counted as
ptxn_tools/report/cases.py counts them: in failing cases (must stay 0); those of passing
negative controls, which exist to lose updates and must be caught doing so, are shown as
"caught". Rounds start until --minutes have passed (the last one runs to its end). Exit 1
on any failure (a failed case, a crash, a timeout, a lost update), with the seed and the
command that replays the round; --seed S runs one round with that seed.

Round size: PTXN_TEST_SCALE = SOAK_SCALE * --scale (times the matrix's QEMU_SCALE under
qemu): about 15 s natively on x86_64 at the default, so even a one-minute soak is several
independent seeds rather than one long run. Logs: build/<target>/soak/.
"""

import json
import os
import random
import subprocess
import time

from . import sanitize, setup
from .build import meson_setup
from .common import BUILD, ROOT, log_tail, say, step
from .report.common import human
from .targets import BY_NAME, QEMU_SCALE

SOAK_SCALE = 0.1
RACE_PREFIXES = ("hwemu_race_", "paravirt_race_", "slot_contention")


def pick_target(names):
    wanted = [n.strip() for chunk in names for n in chunk.split(",") if n.strip()]
    if len(wanted) > 1:
        raise SystemExit("matrix soak: one target at a time (-t NAME)")
    name = wanted[0] if wanted else "x86_64-gcc"
    known = dict(BY_NAME)
    known.update({t.name: t for t in sanitize.targets()})
    if name.startswith("x86_64-") and name in {t.name for t in sanitize.targets()}:
        sanitize.prepare_env()
    if name not in known:
        raise SystemExit("matrix soak: unknown target %r; known: %s" % (name, ", ".join(known)))
    t = known[name]
    if t.kind == "system":
        raise SystemExit("matrix soak: %s is a bare-metal row (no race suites through Meson); "
                         "pick a native or qemu-user target" % name)
    return t


def build(t, bdir):
    """meson setup (first time) and compile, like ./matrix test; output in soak/build.log."""
    os.makedirs(os.path.join(bdir, "soak"), exist_ok=True)
    log = os.path.join(bdir, "soak", "build.log")
    with open(log, "w"):
        pass
    for f in os.listdir(os.path.join(bdir, "soak")):  # the last soak's rounds
        if f.startswith("round-"):
            os.remove(os.path.join(bdir, "soak", f))
    if meson_setup(t, bdir, log) != 0:
        say(log_tail(log))
        raise SystemExit("matrix soak: meson setup failed (%s)" % log)
    if step(["meson", "compile", "-C", bdir, "-j", "2"], log) != 0:
        say(log_tail(log))
        raise SystemExit("matrix soak: build failed (%s)" % log)


def race_tests(bdir):
    r = subprocess.run(["meson", "test", "-C", bdir, "--list", "--no-rebuild"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    names = []
    for line in r.stdout.splitlines():
        name = line.split(" / ")[-1].strip()
        if name.startswith(RACE_PREFIXES):
            names.append(name)
    return names


def read_cases(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"status": "fail", "test": "?", "name": "(unreadable record)"})
    except OSError:
        pass
    return out


def run_round(bdir, tests, seed, scale, k):
    """One round; returns (meson exit code, case records, meson log path)."""
    sdir = os.path.join(bdir, "soak")
    caselog = os.path.join(sdir, "round-%d.jsonl" % k)
    if os.path.exists(caselog):
        os.remove(caselog)
    env = dict(os.environ, PTXN_TEST_SEED="0x%016x" % seed, PTXN_TEST_SCALE=repr(scale),
               PTXN_CASE_LOG=caselog)
    log = os.path.join(sdir, "round-%d.log" % k)
    with open(log, "w") as f:
        rc = subprocess.run(["meson", "test", "-C", bdir, "--no-rebuild", "--num-processes",
                             "1", "--logbase", "soak", "--print-errorlogs"] + tests,
                            stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env).returncode
    return rc, read_cases(caselog), log


def run_soak(args):
    t = pick_target(args.target)
    bdir = os.path.join(BUILD, t.name)
    minutes = args.minutes
    if minutes <= 0:
        raise SystemExit("matrix soak: --minutes must be positive")
    if not args.no_setup and setup.missing_items():
        setup.cmd_setup()
    scale = args.scale * SOAK_SCALE * (QEMU_SCALE if t.under_qemu else 1.0)
    fixed_seed = getattr(args, "seed", None)
    say("soak: %s (%s, runs on %s), %g min, PTXN_TEST_SCALE=%g per round"
        % (t.name, t.toolchain, t.runs_on, minutes, scale))
    t0 = time.monotonic()
    build(t, bdir)
    tests = race_tests(bdir)
    if not tests:
        raise SystemExit("matrix soak: no race tests in %s" % bdir)
    say("soak: built in %.0fs; each round runs %s" % (time.monotonic() - t0, " ".join(tests)))
    rng = random.SystemRandom()
    total = {"transactions": 0, "hw_events": 0, "lost_updates": 0, "caught": 0, "cases": 0}
    start = time.monotonic()
    deadline = start + minutes * 60
    k = 0
    while True:
        k += 1
        seed = int(fixed_seed, 0) if fixed_seed else rng.getrandbits(64)
        r0 = time.monotonic()
        rc, cases, log = run_round(bdir, tests, seed, scale, k)
        failed = [c for c in cases if c.get("status") != "pass"]
        for c in cases:
            total["cases"] += 1
            total["transactions"] += c.get("transactions") or 0
            total["hw_events"] += c.get("hw_events") or 0
            if c.get("status") == "pass":
                total["caught"] += c.get("lost_updates") or 0
            else:
                total["lost_updates"] += c.get("lost_updates") or 0
        elapsed = time.monotonic() - start
        say("round %d  seed 0x%016x  %5.1fs  | total %s txns, %s A/D events, "
            "lost updates %d (controls caught %s), %d cases, %.0fs"
            % (k, seed, time.monotonic() - r0, human(total["transactions"]),
               human(total["hw_events"]), total["lost_updates"], human(total["caught"]),
               total["cases"], elapsed))
        if rc != 0 or failed or not cases:
            say("\nsoak: FAILED in round %d (meson test exit %d, %d failing case%s%s)"
                % (k, rc, len(failed), "" if len(failed) == 1 else "s",
                   ", no case records" if not cases else ""))
            for c in failed[:10]:
                say("  %s: %s%s" % (c.get("test"), c.get("name"),
                                    ": " + c["message"] if c.get("message") else ""))
            say(log_tail(log, 30))
            say("\nreplay: ./matrix soak -t %s --seed 0x%016x --scale %g\n"
                "    or: PTXN_TEST_SEED=0x%016x PTXN_TEST_SCALE=%g meson test -C %s %s\n"
                "  logs: %s, %s"
                % (t.name, seed, args.scale, seed, scale, os.path.relpath(bdir, ROOT),
                   " ".join(tests), os.path.relpath(log, ROOT),
                   os.path.relpath(os.path.join(bdir, "meson-logs", "soak.txt"), ROOT)))
            return 1
        if fixed_seed or time.monotonic() >= deadline:
            break
    say("\nsoak: %s passed: %d rounds in %.1f min, %s transactions, %s hardware A/D "
        "events, lost updates 0 (negative controls caught %s)"
        % (t.name, k, (time.monotonic() - start) / 60, human(total["transactions"]),
           human(total["hw_events"]), human(total["caught"])))
    return 0
