# SPDX-License-Identifier: MIT
"""ptxn benchmarks side by side (issue #8, docs/bench.md): `./matrix bench [options]`.

Builds bench/compare.c and bench/paravirt.c for one target, runs them and writes one JSON
report with a row per (scenario, contender, entries, quiescent share), every ratio taken
inside one run of one binary:

  native (no --target, or a target that runs on the host):
      compare, timed     ns per entry (median, min, max over samples), spurious faults
      compare --count    under `valgrind --tool=callgrind`: instructions per entry (no-hw)
      paravirt           xen-pv rows: ns and traps (hypercalls) per entry per trap cost
  --target NAME run under qemu-user:
      compare --count    under `qemu-<arch>-static -singlestep -d exec,nochain`: every
                         executed guest instruction is one log line; the lines between the
                         bench_mark_begin and bench_mark_end markers are counted. No
                         times (emulated time says nothing about the real CPU).
"""

EPILOG = """\
Exit status: 0, or 1 when a contender left a wrong entry or a step failed. The issue's
performance targets are printed, met or missed, and never change the exit status."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from .common import REPORTS, ROOT, read_machine_files, say
from .targets import BY_NAME

# The fields, plus min/max, spurious faults, each direction's median (a round trip
# is read-write -> read-only -> read-write; on x86 the way back is never quiescent, as
# making an entry read-only moves D to SavedDirty) and what the ratios divide.
FIELDS = ["scenario", "contender", "entries", "quiescent_share", "ns_per_entry",
          "ns_per_entry_min", "ns_per_entry_max", "ns_rw_to_ro", "ns_ro_to_rw",
          "instructions_per_entry", "traps_per_entry", "spurious_faults_per_entry",
          "ratio_vs_linux_clear", "ratio_vs_unsafe_rmw", "ratio_basis"]
# The plot's lines: the peers, ptxn's default and batched rows, the two limits.
PLOTTED = ["linux-clear", "freebsd-cas", "ptxn-auto", "ptxn-auto-ptes", "ptxn-merge-ptes",
           "unsafe-rmw", "memory-bound"]
# paravirt.c's modes as contenders: the generic Linux path in a PV guest traps on the
# exchange and on the store; Xen PV's own path is one MMU_PT_UPDATE_PRESERVE_AD per entry,
# batched 32 to a multicall under lazy MMU mode.
PV_NAMES = {"native": "native-merge", "clear": "linux-clear", "merge": "xen-pv-unbatched",
            "lazy32": "xen-pv", "lazy512": "xen-pv-lazy512"}
PV_COSTS = "0,1000"


class BenchError(Exception):
    pass


# ------------------------------------------------------------------------ build


def machine_file(name, files=None):
    """The compiler, flags and exe_wrapper of cross-files/<name>.ini, or of the machine
    files `files` layered in order as Meson does (i686-host under qemu adds one)."""
    sections = read_machine_files(files or [os.path.join("cross-files", name + ".ini")])
    out = dict(sections.get("binaries", {}), **sections.get("built-in options", {}))
    as_list = lambda v: [v] if isinstance(v, str) else list(v or [])
    cc = as_list(out.get("c", "cc"))
    if cc[:1] == ["ccache"] and not shutil.which("ccache"):
        cc = cc[1:]  # as Meson does where ccache is not installed
    return {"c": cc, "c_args": as_list(out.get("c_args")),
            "c_link_args": as_list(out.get("c_link_args")),
            "exe_wrapper": as_list(out.get("exe_wrapper"))}


def build(target, bdir, files=None):
    """Compile compare and paravirt for target into bdir; returns (compare, paravirt, wrapper)."""
    mf = machine_file(target, files)
    os.makedirs(bdir, exist_ok=True)
    flags = ["-O2", "-Wall", "-Wextra", "-pthread", "-I" + os.path.join(ROOT, "include")]
    flags += mf["c_args"] + [a for a in mf["c_link_args"] if a not in mf["c_args"]]
    if mf["exe_wrapper"] and "-static" not in flags:
        flags.append("-static")  # no loader under qemu; the exec log names our symbols
    outs = []
    for prog in ("compare", "paravirt"):
        out = os.path.join(bdir, prog)
        cmd = mf["c"] + flags + [os.path.join(ROOT, "bench", prog + ".c"), "-o", out]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            raise BenchError("build failed: %s\n%s" % (" ".join(cmd), res.stderr[-3000:]))
        outs.append(out)
    return outs[0], outs[1], mf["exe_wrapper"]


# ------------------------------------------------------------------------ runs


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_checked(cmd, what, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode:
        raise BenchError("%s failed (exit %d): %s\n%s%s" % (
            what, res.returncode, " ".join(cmd), res.stdout[-2000:], res.stderr[-3000:]))
    return res.stdout


def compare_args(a):
    args = ["--sizes", a.sizes, "--shares", a.shares]
    if a.contenders:
        args += ["--contenders", a.contenders]
    if a.samples:
        args += ["--samples", str(a.samples)]
    if a.scenarios:
        args += ["--scenarios", a.scenarios]
    if a.runs:
        args += ["--runs", str(a.runs)]
    if a.batch:
        args += ["--batch", str(a.batch)]
    if a.quick:
        args.append("--quick")
    return args


def run_timed(compare, a, tmp):
    path = os.path.join(tmp, "timed.jsonl")
    out = run_checked([compare, "--json", path] + compare_args(a), "bench-compare (timed)")
    lines = read_jsonl(path)
    return [r for r in lines if r.get("kind") == "timed"], lines[0], out


def marks_to_counts(marks, per_mark):
    """{(contender, entries, share): instructions per entry change} from each direction's
    count; a cell needs both of its directions."""
    acc = {}
    for m in marks:
        if m["mark"] not in per_mark:
            raise BenchError("no instruction count for mark %d" % m["mark"])
        key = (m["contender"], m["entries"], m["quiescent_share"])
        acc.setdefault(key, []).append(per_mark[m["mark"]])
    return {k: sum(v) / (2.0 * k[1]) for k, v in acc.items() if len(v) == 2}


def count_args(a):
    sizes = a.count_sizes or a.sizes
    args = ["--count", "--scenarios", "no-hw", "--sizes", sizes, "--shares", a.shares]
    if a.contenders:
        args += ["--contenders", a.contenders]
    if a.batch:
        args += ["--batch", str(a.batch)]
    if a.runs:
        args += ["--runs", str(a.runs)]
    return args


def run_callgrind(compare, a, tmp):
    if not shutil.which("valgrind"):
        say("bench: valgrind is not installed: no instruction counts (./matrix setup "
            "installs it)")
        return {}
    marks_path = os.path.join(tmp, "marks.jsonl")
    out = os.path.join(tmp, "cg.out")
    run_checked(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                 "--callgrind-out-file=" + out, compare, "--json", marks_path] + count_args(a),
                "bench-compare under callgrind")
    per_mark = {}
    for name in os.listdir(tmp):
        if not name.startswith("cg.out"):
            continue
        with open(os.path.join(tmp, name)) as f:
            text = f.read()
        m = re.search(r"^desc: Trigger: Client Request: bench-mark-(\d+)$", text, re.M)
        s = re.search(r"^summary:\s+(\d+)", text, re.M)
        if m and s:
            per_mark[int(m.group(1))] = int(s.group(1))
    marks = [r for r in read_jsonl(marks_path) if r.get("kind") == "mark"]
    return marks_to_counts(marks, per_mark)


def count_exec_log(stream, begin_pc, end_pc):
    """Instructions executed between each bench_mark_begin and the next bench_mark_end,
    from a `-singlestep -d exec,nochain` log: one line per guest instruction,
    "Trace N: host [.../pc/flags/cflags] symbol" (no symbol for big-endian ppc64, whose
    function symbols name descriptors: the markers are found by their code address, which
    bench-compare --mark-pcs reports). A sweep's count includes the few instructions of
    the calls around it (about ten: under 0.05 per entry at 512 entries), as callgrind's."""
    counts, inside, n, mark = {}, False, 0, 0
    for line in stream:
        if not line.startswith("Trace"):
            continue
        try:
            pc = int(line.split("[", 1)[1].split("/", 2)[1], 16)
        except (IndexError, ValueError):
            continue
        if pc == begin_pc:
            inside, n = True, 0
        elif pc == end_pc:
            if inside:
                counts[mark] = n
                mark += 1
            inside = False
        elif inside:
            n += 1
    return counts


def run_qemu_count(compare, wrapper, a, tmp):
    """compare --count under qemu-user, its exec log streamed through a FIFO (the log of a
    full count is gigabytes; it is never written to disk)."""
    marks_path = os.path.join(tmp, "marks.jsonl")
    fifo = os.path.join(tmp, "exec.fifo")
    os.mkfifo(fifo)
    pcs = run_checked(wrapper + [compare, "--mark-pcs"], "bench-compare --mark-pcs").split()
    cmd = wrapper + ["-singlestep", "-d", "exec,nochain", "-D", fifo, compare,
                     "--json", marks_path] + count_args(a)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, errors="replace") as f:
        per_mark = count_exec_log(f, int(pcs[0]), int(pcs[1]))
    out, err = proc.communicate()
    if proc.returncode:
        raise BenchError("bench-compare under qemu failed (exit %d): %s\n%s" % (
            proc.returncode, " ".join(cmd), err[-3000:]))
    marks = [r for r in read_jsonl(marks_path) if r.get("kind") == "mark"]
    return marks_to_counts(marks, per_mark)


def run_paravirt(paravirt, a, tmp):
    path = os.path.join(tmp, "paravirt.jsonl")
    args = [paravirt, "--json", path, "--costs", PV_COSTS]
    if a.quick:
        args.append("--quick")
    run_checked(args, "bench-paravirt")
    rows = []
    for r in read_jsonl(path):
        rows.append({
            "scenario": "paravirt-%dns" % r["trap_ns"], "contender": PV_NAMES[r["mode"]],
            "entries": r["entries"], "quiescent_share": 0.0,
            "ns_per_entry": r["median_ns_per_entry"], "ns_per_entry_min": r["ns_per_entry"],
            "ns_per_entry_max": None, "instructions_per_entry": None,
            "traps_per_entry": r["traps_per_entry"], "spurious_faults_per_entry": None})
    return rows


# ------------------------------------------------------------------------ rows


def assemble(timed, counts, pv_rows):
    """One row per cell and contender; ratios inside the cell (same run, same tables)."""
    rows = []
    for r in timed:
        rows.append({
            "scenario": r["scenario"], "contender": r["contender"], "entries": r["entries"],
            "quiescent_share": float(r["quiescent_share"]), "ns_per_entry": r["ns_per_entry"],
            "ns_per_entry_min": r["ns_min"], "ns_per_entry_max": r["ns_max"],
            "ns_rw_to_ro": r["ns_rw_to_ro"], "ns_ro_to_rw": r["ns_ro_to_rw"],
            "instructions_per_entry": None, "traps_per_entry": None,
            "spurious_faults_per_entry": r.get("spurious_faults_per_entry", 0.0)})
    seen = {(r["contender"], r["entries"], r["quiescent_share"]) for r in rows
            if r["scenario"] == "no-hw"}
    for row in rows:
        if row["scenario"] == "no-hw":
            row["instructions_per_entry"] = counts.get(
                (row["contender"], row["entries"], row["quiescent_share"]))
    counted_only = []
    for (contender, n, q), ipe in counts.items():  # in the program's order
        if (contender, n, float(q)) not in seen:  # counted only (qemu, or sizes not timed)
            counted_only.append({
                "scenario": "no-hw", "contender": contender, "entries": n,
                "quiescent_share": float(q), "ns_per_entry": None, "ns_per_entry_min": None,
                "ns_per_entry_max": None, "instructions_per_entry": ipe,
                "traps_per_entry": None, "spurious_faults_per_entry": 0.0})
    rows += sorted(counted_only, key=lambda r: (r["entries"], r["quiescent_share"]))
    rows += pv_rows
    cells = {}
    for row in rows:
        cells.setdefault((row["scenario"], row["entries"], row["quiescent_share"]), {})[
            row["contender"]] = row
    for row in rows:
        peers = cells[(row["scenario"], row["entries"], row["quiescent_share"])]
        basis = "ns_per_entry" if row["ns_per_entry"] is not None else "instructions_per_entry"
        row["ratio_basis"] = basis if row[basis] is not None else None
        for peer, field in (("linux-clear", "ratio_vs_linux_clear"),
                            ("unsafe-rmw", "ratio_vs_unsafe_rmw")):
            p = peers.get(peer)
            ok = basis and p is not None and row[basis] is not None and p.get(basis)
            row[field] = round(row[basis] / p[basis], 4) if ok else None
    return [{k: row.get(k) for k in FIELDS} for row in rows]


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def print_table(rows):
    w = max(len(r["contender"]) for r in rows) if rows else 10
    last = None
    for r in rows:
        cell = (r["scenario"], r["entries"], r["quiescent_share"])
        if cell != last:
            say("\n%s, %d entries, %d%% quiescent" % (cell[0], cell[1], round(cell[2] * 100)))
            say("  %-*s %9s %8s %9s %7s %7s %7s %7s %9s %7s %7s" % (
                w, "contender", "ns/entry", "min", "max", "rw>ro", "ro>rw", "instr", "traps",
                "spurious", "/linux", "/unsafe"))
            last = cell
        say("  %-*s %9s %8s %9s %7s %7s %7s %7s %9s %7s %7s" % (
            w, r["contender"], fmt(r["ns_per_entry"]), fmt(r["ns_per_entry_min"]),
            fmt(r["ns_per_entry_max"]), fmt(r["ns_rw_to_ro"]), fmt(r["ns_ro_to_rw"]),
            fmt(r["instructions_per_entry"], "%.1f"),
            fmt(r["traps_per_entry"], "%.3f"), fmt(r["spurious_faults_per_entry"], "%.1e"),
            fmt(r["ratio_vs_linux_clear"]), fmt(r["ratio_vs_unsafe_rmw"])))


def targets_summary(rows, batch=16, runs=1):
    """The performance issue's targets (#18, docs/bench.md), met or missed, from this run's
    rows: each ratio is linux-clear's time (or the named peer's) over ptxn's, both from
    this run. A target this run cannot judge (no row, counts only, another batch or run
    length than the target names) is not printed."""
    def get(sc, c, n, q):
        for r in rows:
            if (r["scenario"], r["contender"], r["entries"], r["quiescent_share"]) == (sc, c, n, q):
                return r
        return None

    def ns(r, field="ns_per_entry"):
        return r[field] if r and r["ratio_basis"] == "ns_per_entry" and r[field] else None

    def verdict(ok):
        return "met" if ok else "MISSED"

    def r2(x):  # judged as printed: 1.004 is "1.00x", which meets "at most 1.0x"
        return round(x, 2)

    lines = []
    big = max((r["entries"] for r in rows if r["scenario"] == "no-hw"), default=0)
    for q in (0.0, 0.5, 1.0):
        lin = ns(get("no-hw", "linux-clear", big, q))
        if lin is None:
            continue
        auto, ptes = ns(get("no-hw", "ptxn-auto", big, q)), ns(get("no-hw", "ptxn-auto-ptes", big, q))
        if q == 0.5 and ptes:
            lines.append("ptxn-auto-ptes (batch %d, runs of %d) over linux-clear, 50%%: %.2fx "
                         "(target 1.5x: %s)" % (batch, runs, lin / ptes, verdict(r2(lin / ptes) >= 1.5)))
        if q == 0.5 and auto:
            want = 1.5 if runs >= 16 else 1.0
            mix = "in runs of %d" % runs if runs > 1 else "at random"
            lines.append("ptxn-auto over linux-clear, 50%% %s: %.2fx (target %.1fx: %s)" % (
                mix, lin / auto, want, verdict(r2(lin / auto) >= want)))
            bare = ns(get("no-hw", "bare-auto", big, q))
            if bare:
                # the miss split in two: the per-entry decision itself, and the API around it
                lines.append("  of which: bare-auto (the decision alone) over linux-clear, 50%% "
                             "%s: %.2fx; ptxn-auto's cost over bare-auto: %.2fx"
                             % (mix, lin / bare, auto / bare))
        if q == 0.0:
            for name, v in (("ptxn-auto", auto), ("ptxn-auto-ptes", ptes)):
                if v:
                    lines.append("%s over linux-clear, 0%%: %.2fx (target 1.0x: %s)" % (
                        name, lin / v, verdict(r2(lin / v) >= 1.0)))
        if q == 1.0:
            for field, label in (("ns_rw_to_ro", "read-write -> read-only"),
                                 ("ns_ro_to_rw", "read-only -> read-write")):
                best = [v for v in (ns(get("no-hw", c, big, q), field) for c in
                                    ("ptxn-auto", "ptxn-auto-ptes", "ptxn-auto-cet",
                                     "ptxn-auto-flushed")) if v]
                lin_dir = ns(get("no-hw", "linux-clear", big, q), field)
                if best and lin_dir:
                    s = lin_dir / min(best)
                    lines.append("best ptxn-auto* over linux-clear, 100%%, %s: %.2fx "
                                 "(target 2x: %s)" % (label, s, verdict(r2(s) >= 2.0)))
    cet, rmw = ns(get("no-hw", "ptxn-auto-cet", big, 1.0)), ns(get("no-hw", "unsafe-rmw", big, 1.0))
    if cet and rmw:
        lines.append("ptxn-auto-cet's cost over unsafe-rmw, 100%%: %.2fx (target at most 1.5x: %s)"
                     % (cet / rmw, verdict(r2(cet / rmw) <= 1.5)))
    for q in (0.0, 0.5, 1.0):
        mp, m = ns(get("no-hw", "ptxn-merge-ptes", big, q)), ns(get("no-hw", "ptxn-merge", big, q))
        if mp and m:
            lines.append("ptxn-merge-ptes' cost over ptxn-merge, %d%%: %.2fx (target at most "
                         "1.0x: %s)" % (q * 100, mp / m, verdict(r2(mp / m) <= 1.0)))
    counted = [r["entries"] for r in rows if r["scenario"] == "no-hw" and
               r["contender"] == "ptxn-auto" and r["instructions_per_entry"]]
    if counted:
        n = max(counted)
        a, l = get("no-hw", "ptxn-auto", n, 0.5), get("no-hw", "linux-clear", n, 0.5)
        if a and l and a["instructions_per_entry"] and l["instructions_per_entry"]:
            s = a["instructions_per_entry"] / l["instructions_per_entry"]
            lines.append("instructions per entry, ptxn-auto vs linux-clear, 50%%, %d entries: "
                         "%.1f vs %.1f = %.2fx (target at most 1.2x: %s)" % (
                             n, a["instructions_per_entry"], l["instructions_per_entry"], s,
                             verdict(r2(s) <= 1.2)))
    pv = [r for r in rows if r["scenario"] == "paravirt-1000ns"]
    if pv:
        n = max(r["entries"] for r in pv)
        unb, bat = get("paravirt-1000ns", "xen-pv-unbatched", n, 0.0), get(
            "paravirt-1000ns", "xen-pv", n, 0.0)
        if unb and bat and bat["traps_per_entry"]:
            t = unb["traps_per_entry"] / bat["traps_per_entry"]
            s = unb["ns_per_entry"] / bat["ns_per_entry"]
            best = unb["ns_per_entry_min"] / bat["ns_per_entry_min"]
            lines.append("xen-pv (batch 32) vs unbatched at 1 us per trap, %d entries: "
                         "%.1fx fewer traps (target 64x: %s), %.1fx faster by the medians, "
                         "%.1fx by the best runs (target 20x: %s)"
                         % (n, t, "met" if t >= 64 else "MISSED", s, best,
                            "met" if s >= 20 else "met by the best runs only" if best >= 20
                            else "MISSED"))
    return lines


def plot(rows, png):
    """ns per entry against entries, no-hw at 50 % quiescent, one line per PLOTTED row."""
    if not shutil.which("gnuplot"):
        say("gnuplot not found: no plot (./matrix setup installs gnuplot-nox)")
        return None
    data = {}
    for r in rows:
        if (r["scenario"], r["quiescent_share"]) == ("no-hw", 0.5) and \
                r["contender"] in PLOTTED and r["ns_per_entry"] is not None:
            data.setdefault(r["contender"], []).append((r["entries"], r["ns_per_entry"]))
    if not data:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for c in PLOTTED:
            if c in data:
                path = os.path.join(tmp, c + ".dat")
                with open(path, "w") as f:
                    f.writelines("%d %f\n" % p for p in sorted(data[c]))
                plots.append("'%s' using 1:2 with linespoints title '%s'" % (path, c))
        script = ("set terminal pngcairo size 900,560\nset output '%s'\nset logscale x 2\n"
                  "set xlabel 'entries per mprotect'\nset ylabel 'ns per entry change'\n"
                  "set title 'ptxn bench: no concurrent hardware, 50%% quiescent'\n"
                  "set key outside right\nset grid\nplot %s\n" % (png, ", ".join(plots)))
        res = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
        if res.returncode:
            script = script.replace("pngcairo", "png")  # gnuplot-nox without cairo
            res = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
        if res.returncode:
            say("gnuplot failed: %s" % res.stderr.strip())
            return None
    return png


# ------------------------------------------------------------------------ main


def configure(p):
    """Describe `./matrix bench` on the ArgumentParser p: ./matrix's bench subcommand, or
    this file's own parser (main())."""
    p.description, p.epilog = __doc__, EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("-t", "--target", default="x86_64-gcc", metavar="NAME",
                   help="a ./matrix target (default: %(default)s, the host's GCC)")
    p.add_argument("--quick", action="store_true",
                   help="CI size: fewer samples, fewer sizes counted, paravirt to 4,096")
    p.add_argument("--sizes", default="512,16384,262144", metavar="N,N",
                   help="entries per mprotect (default %(default)s)")
    p.add_argument("--count-sizes", metavar="N,N",
                   help="sizes counted (default: all natively; up to 16,384 with --quick or "
                   "under qemu, 512 with both)")
    p.add_argument("--shares", default="0,0.5,1", metavar="Q,Q",
                   help="quiescent shares (default %(default)s)")
    p.add_argument("--contenders", metavar="C,C",
                   help="only these (bench/compare --list); broken-skip is a hidden, "
                   "deliberately wrong one that must make the run fail")
    p.add_argument("--scenarios", metavar="S,S", help="no-hw, hot-2cpu (default both)")
    p.add_argument("--runs", type=int, default=0, metavar="R",
                   help="quiescent entries in random runs of R (default 1: each on its own)")
    p.add_argument("--batch", type=int, default=0, metavar="NR",
                   help="entries per _ptes call (a folio; default 16, at most 512)")
    p.add_argument("--samples", type=int, default=0, metavar="K",
                   help="samples per cell (default: by size)")
    p.add_argument("--no-count", action="store_true", help="no instruction counts")
    p.add_argument("--no-paravirt", action="store_true", help="no xen-pv rows")
    p.add_argument("--no-plot", action="store_true", help="no gnuplot PNG")
    p.add_argument("--out", metavar="FILE",
                   help="default reports/bench.json (reports/bench-<target>.json with -t)")
    p.add_argument("--build-dir", metavar="DIR", help="default build/bench/<target>")
    return p


def main(argv):
    """Without ./matrix (`PYTHONPATH=tools python3 -m ptxn_tools.bench`): its options."""
    a = configure(argparse.ArgumentParser(prog="./matrix bench")).parse_args(argv)
    return run(a, argv)


def run(a, argv):
    """`./matrix bench`: a is the parsed options (configure()), argv the command line
    after `bench` (recorded in the report)."""
    target = BY_NAME.get(a.target)
    if target is None:
        say("unknown target %s (./matrix list)" % a.target)
        return 2
    if target.kind == "system":
        say("%s is a bare-metal target: ./matrix bench runs user-space programs only" % a.target)
        return 2
    # the machine files as ./matrix layers them (i686-host may run under qemu here)
    files = target.machine_files
    under_qemu = bool(machine_file(a.target, files)["exe_wrapper"])
    if not a.count_sizes and (a.quick or under_qemu):
        # counts barely depend on the size; the biggest are slow to count (callgrind
        # 50x, qemu -singlestep with a log line per instruction far more)
        limit = 512 if under_qemu and a.quick else 16384
        sizes = [n for n in a.sizes.split(",") if int(n) <= limit]
        a.count_sizes = ",".join(sizes) or min(a.sizes.split(","), key=int)
    out = a.out or os.path.join(REPORTS, "bench.json" if a.target == "x86_64-gcc"
                                else "bench-%s.json" % a.target)
    bdir = a.build_dir or os.path.join(ROOT, "build", "bench", a.target)
    t0 = time.time()
    try:
        compare, paravirt, wrapper = build(a.target, bdir, files)
        say("bench: built %s for %s%s" % (compare, a.target, " (runs under %s)" % " ".join(
            wrapper) if wrapper else ""))
        if target.note:
            say("bench: note: %s; instruction counts come from qemu's exec log" % target.note)
        with tempfile.TemporaryDirectory(prefix="ptxn-bench-") as tmp:
            timed, meta, pv_rows, counts = [], {}, [], {}
            if not under_qemu:
                say("bench: timed run (%.0f s)" % (time.time() - t0))
                timed, meta, _ = run_timed(compare, a, tmp)
            if not a.no_count:
                say("bench: instruction counts, %s (%.0f s)" % (
                    "qemu exec log" if under_qemu else "callgrind", time.time() - t0))
                cdir = os.path.join(tmp, "count")
                os.mkdir(cdir)
                counts = (run_qemu_count(compare, wrapper, a, cdir) if under_qemu
                          else run_callgrind(compare, a, cdir))
            if not under_qemu and not a.no_paravirt and not a.contenders:
                say("bench: paravirt (%.0f s)" % (time.time() - t0))
                pv_rows = run_paravirt(paravirt, a, tmp)
    except BenchError as e:
        say("bench: FAILED: %s" % e)
        return 1
    rows = assemble(timed, counts, pv_rows)
    load = os.getloadavg()[0]
    print_table(rows)
    summary = targets_summary(rows, a.batch or 16, a.runs or 1)
    if summary:
        say("\n" + "\n".join(summary))
    report = {"target": a.target, "under_qemu": under_qemu, "quick": a.quick,
              "note": target.note,
              "command": "./matrix bench " + " ".join(argv), "date": time.strftime(
                  "%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "cpu": cpu_model(),
              "cpus": os.cpu_count(), "load_average_end": round(load, 2),
              "compare": meta, "seconds": round(time.time() - t0, 1),
              "targets": summary, "fields": FIELDS, "rows": rows}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    png = None if a.no_plot or under_qemu else plot(rows, os.path.splitext(out)[0] + ".png")
    say("\nbench: %d rows in %s%s; %.0f s, load average %.2f" % (
        len(rows), out, ", plot " + png if png else "", time.time() - t0, load))
    return 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        return m.group(1) if m else None
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
