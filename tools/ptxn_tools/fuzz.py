# SPDX-License-Identifier: MIT
"""ptxn fuzzing: the code behind `./matrix fuzz` (fuzz/README.md).

Builds every libFuzzer harness of fuzz/ once per entry format with clang
(-fsanitize=fuzzer,address,undefined) into build/fuzz/, proves the invariants bite (the
PTXN_FUZZ_BROKEN_MERGE build of each harness must crash from an empty corpus within
--bite-seconds), then runs each harness for --seconds over a scratch corpus seeded from
fuzz/corpus/<harness>/. Any crash, timeout, leak or out-of-memory fails the run and prints
the reproducer libFuzzer saved and the command that replays it. The last line is a
summary (harnesses, executions, seconds) for docs/reliability.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .common import ROOT, say

FUZZ = os.path.join(ROOT, "fuzz")
OUT = os.path.join(ROOT, "build", "fuzz")

HARNESSES = ["format", "commit", "batch"]
FORMATS = {
    "x86": ["-DPTXN_FORMAT_X86", "-DPTXN_X86_PAE=0"],
    "x86_pae": ["-DPTXN_FORMAT_X86", "-DPTXN_X86_PAE=1"],
    "arm64": ["-DPTXN_FORMAT_ARM64"],
    "powerpc": ["-DPTXN_FORMAT_POWERPC"],
    "riscv": ["-DPTXN_FORMAT_RISCV"],
}
CFLAGS = ["-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=undefined",
          "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(ROOT, "include")]
QUICK_SECONDS = 10   # per harness run under --quick: 15 runs + 30 builds ~ 3 min on 2 cores
DEFAULT_SECONDS = 60
TIMEOUT_PER_INPUT = 10  # seconds: a commit that never returns (a CAS loop) is a failure


def rel(path):
    """A path relative to the checkout if it is inside it (what a user types), else absolute."""
    r = os.path.relpath(path, ROOT)
    return path if r.startswith("..") else r


def clang():
    for cc in ("clang-14", "clang"):
        if shutil.which(cc):
            return cc
    return None


def build(cc, harness, fmt, broken=False):
    """One fuzzer binary; returns (path, error text or None)."""
    name = "%s%s_%s" % ("broken_" if broken else "", harness, fmt)
    exe = os.path.join(OUT, "bin", name)
    src = os.path.join(FUZZ, "fuzz_%s.c" % harness)
    cmd = [cc] + CFLAGS + FORMATS[fmt] + (["-DPTXN_FUZZ_BROKEN_MERGE"] if broken else []) + \
        [src, "-o", exe]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        return exe, "$ %s\n%s" % (" ".join(cmd), r.stdout)
    return exe, None


STATS = re.compile(r"Done (\d+) runs in (\d+) second")
ARTIFACT = re.compile(r"Test unit written to (\S+)")


def run_fuzzer(exe, corpora, seconds, seed, rss, log, runs=None):
    """Run one libFuzzer binary; returns (returncode, executions, seconds, artifact)."""
    art = os.path.join(OUT, "crashes", os.path.basename(exe)) + "-"
    os.makedirs(os.path.dirname(art), exist_ok=True)
    cmd = [exe, "-max_total_time=%d" % seconds, "-seed=%d" % seed, "-rss_limit_mb=%d" % rss,
           "-timeout=%d" % TIMEOUT_PER_INPUT, "-artifact_prefix=" + art,
           "-print_final_stats=1"] + (["-runs=%d" % runs] if runs else []) + corpora
    t0 = time.monotonic()
    with open(log, "w") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - t0
    text = open(log, errors="replace").read()
    m = STATS.search(text)
    execs = int(m.group(1)) if m else 0
    if not m:
        m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
        execs = int(m.group(1)) if m else 0
    a = ARTIFACT.search(text)
    return r.returncode, execs, elapsed, a.group(1) if a else None


def failure_excerpt(log, n=12):
    lines = open(log, errors="replace").read().splitlines()
    keep = [l for l in lines if "ptxn fuzz" in l or "case:" in l or "ERROR:" in l
            or "SUMMARY:" in l or "runtime error" in l]
    return "\n".join("    " + l for l in (keep or lines[-n:])[:n])


def positive(text):
    n = int(text)
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive, not %s" % text)
    return n


def configure(p):
    """Describe `./matrix fuzz` on the ArgumentParser p: ./matrix's fuzz subcommand, or
    this file's own parser (main())."""
    p.description = __doc__
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--seconds", type=positive, default=None, metavar="N",
                   help="per harness (default %d, %d with --quick)" % (DEFAULT_SECONDS,
                                                                       QUICK_SECONDS))
    p.add_argument("--quick", action="store_true", help="the CI run: %d s per harness" %
                   QUICK_SECONDS)
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="libFuzzer -seed (default: from the clock; printed, so a run repeats)")
    p.add_argument("--rss-limit-mb", type=int, default=2048, metavar="M",
                   help="libFuzzer -rss_limit_mb (default %(default)s)")
    p.add_argument("-j", "--jobs", type=positive, default=1, metavar="N",
                   help="harnesses run at once (default 1; the machine is shared)")
    p.add_argument("--harness", action="append", choices=HARNESSES,
                   help="only this harness (repeatable; default all: %s)" % ", ".join(HARNESSES))
    p.add_argument("--format", action="append", choices=sorted(FORMATS),
                   help="only this entry format (repeatable; default all: %s)"
                   % ", ".join(sorted(FORMATS)))
    p.add_argument("--bite-seconds", type=int, default=30, metavar="N",
                   help="how long a broken build may take to be caught (default 30)")
    p.add_argument("--no-bite", action="store_true",
                   help="skip the broken-variant check")
    p.add_argument("--out", default=OUT, metavar="DIR",
                   help="build and work directory (default build/fuzz; one per concurrent run)")
    return p


def main(argv):
    """Without ./matrix (which installs what is missing first):
    `PYTHONPATH=tools python3 -m ptxn_tools.fuzz`."""
    return run(configure(argparse.ArgumentParser(prog="./matrix fuzz")).parse_args(argv))


def run(a):
    """`./matrix fuzz`: a is the parsed options (configure())."""
    global OUT
    if a.seconds is None:
        a.seconds = QUICK_SECONDS if a.quick else DEFAULT_SECONDS
    if a.seed is None:
        a.seed = int(time.time()) % 1000000007 or 1
    OUT = os.path.abspath(a.out)
    cc = clang()
    if not cc:
        say("fuzz: clang not found; run ./matrix setup")
        return 1
    harnesses = a.harness or HARNESSES
    formats = a.format or list(FORMATS)
    t_start = time.monotonic()
    os.makedirs(os.path.join(OUT, "bin"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)

    jobs = [(h, f, False) for h in harnesses for f in formats]
    if not a.no_bite:
        jobs += [(h, f, True) for h in harnesses for f in formats]
    say("fuzz: building %d binaries with %s (-fsanitize=fuzzer,address,undefined)..." %
        (len(jobs), cc))
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = list(pool.map(lambda j: (j, build(cc, *j)), jobs))
    errors = [err for _, (_, err) in built if err]
    if errors:
        say("fuzz: build failed:\n" + errors[0])
        return 1
    exes = {j: exe for j, (exe, _) in built}
    say("fuzz: built in %.0f s; seed %d, %d s per harness, rss limit %d MB" %
        (time.monotonic() - t_start, a.seed, a.seconds, a.rss_limit_mb))

    failed = 0
    # 1. The invariants bite: each broken build must crash, from an empty corpus.
    if not a.no_bite:
        for h in harnesses:
            for f in formats:
                exe = exes[(h, f, True)]
                empty = os.path.join(OUT, "work", "empty-" + os.path.basename(exe))
                shutil.rmtree(empty, ignore_errors=True)
                os.makedirs(empty)
                log = os.path.join(OUT, "logs", os.path.basename(exe) + ".log")
                rc, execs, secs, art = run_fuzzer(exe, [empty], a.bite_seconds, a.seed,
                                                  a.rss_limit_mb, log)
                caught = "invariant broken" in open(log, errors="replace").read()
                if rc and art and caught:
                    say("  bite  %-8s %-8s broken merge caught after %d executions, %.1f s" %
                        (h, f, execs, secs))
                else:
                    failed += 1
                    say("  FAIL  %-8s %-8s the broken merge was NOT caught in %d s (%d "
                        "executions; log %s)" % (h, f, a.bite_seconds, execs, log))

    # 2. The real harnesses, bounded.
    def one(hf):
        h, f = hf
        exe = exes[(h, f, False)]
        work = os.path.join(OUT, "work", "%s_%s" % (h, f))
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        log = os.path.join(OUT, "logs", "%s_%s.log" % (h, f))
        return hf, exe, log, run_fuzzer(exe, [work, os.path.join(FUZZ, "corpus", h)],
                                        a.seconds, a.seed, a.rss_limit_mb, log)

    total_execs = 0
    total_secs = 0.0
    pairs = [(h, f) for h in harnesses for f in formats]
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for (h, f), exe, log, (rc, execs, secs, art) in pool.map(one, pairs):
            total_execs += execs
            total_secs += secs
            if rc == 0:
                say("  ok    %-8s %-8s %10d executions in %4.0f s (%d/s)" %
                    (h, f, execs, secs, execs / max(secs, 1e-9)))
                continue
            failed += 1
            say("  FAIL  %-8s %-8s exit %d after %d executions (log %s)" %
                (h, f, rc, execs, rel(log)))
            say(failure_excerpt(log))
            if art:
                say("    reproducer: %s\n    replay:     %s %s\n"
                    "    or:         build/<target>/fuzz/fuzz_replay_%s_%s FILE (meson test "
                    "build)" % (rel(art), rel(exe), rel(art), h, f))
    say("fuzz: %d harness runs, %d executions in %.0f s of fuzzing (%.0f s wall), seed %d: %s" %
        (len(pairs), total_execs, total_secs, time.monotonic() - t_start, a.seed,
         "%d FAILED" % failed if failed else "all invariants held"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
