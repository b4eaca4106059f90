# SPDX-License-Identifier: MIT
"""Tests of the benchmark driver (ptxn_tools/bench.py, bench/compare.c).

Run by `meson test` on the host GCC build (tools/meson.build); by hand, from tools/:
`python3 -m unittest -v ptxn_tools.tests.test_bench`.

End to end, at a tiny size: the report's rows have exactly the documented fields, every
contender and the xen-pv rows are there, each ratio is the quotient of two rows of the
same cell of the same run, rows that never break an entry report no spurious fault, and
a deliberately wrong contender (broken-skip, which drops one entry in 64) makes both the
program and `./matrix bench` fail while a correct one with the same options passes.
Times are never checked (no timing targets in tests); instruction counts only for being
there and positive.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from ptxn_tools import bench
from ptxn_tools.common import ROOT

TINY = ["--sizes", "512", "--shares", "0,1", "--samples", "3", "--quick", "--no-plot"]


def run_bench(args, tmp):
    """./matrix bench with args, the report in tmp; returns (exit status, output, report)."""
    out = os.path.join(tmp, "bench.json")
    res = subprocess.run([sys.executable, os.path.join(ROOT, "matrix"), "bench", "--out", out,
                          "--build-dir", os.path.join(tmp, "build")] + args,
                         capture_output=True, text=True, timeout=600)
    report = None
    if os.path.exists(out):
        with open(out) as f:
            report = json.load(f)
    return res.returncode, res.stdout + res.stderr, report


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ptxn-test-bench-")
        cls.rc, cls.output, cls.report = run_bench(TINY, cls.tmp)
        res = subprocess.run([os.path.join(cls.tmp, "build", "compare"), "--list"],
                             capture_output=True, text=True)
        cls.contenders = res.stdout.split()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_runs(self):
        self.assertEqual(self.rc, 0, self.output[-3000:])
        self.assertIsNotNone(self.report)
        self.assertGreaterEqual(len(self.contenders), 10)
        self.assertNotIn("broken-skip", self.contenders)  # hidden: never run by default

    def test_fields(self):
        rows = self.report["rows"]
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(list(r), bench.FIELDS, r)
            self.assertIsInstance(r["scenario"], str)
            self.assertIsInstance(r["entries"], int)
            self.assertTrue(0.0 <= r["quiescent_share"] <= 1.0)
            for k in bench.FIELDS[4:14]:
                self.assertTrue(r[k] is None or isinstance(r[k], (int, float)), (k, r))
            if r["scenario"] in ("no-hw", "hot-2cpu"):
                self.assertGreater(r["ns_per_entry"], 0, r)
                self.assertLessEqual(r["ns_per_entry_min"], r["ns_per_entry"], r)
                self.assertGreaterEqual(r["ns_per_entry_max"], r["ns_per_entry"], r)
                self.assertIsNone(r["traps_per_entry"], r)
                self.assertEqual(r["ratio_basis"], "ns_per_entry")

    def test_every_contender_and_cell(self):
        rows = self.report["rows"]
        for sc in ("no-hw", "hot-2cpu"):
            for q in (0.0, 1.0):
                got = [r["contender"] for r in rows
                       if (r["scenario"], r["entries"], r["quiescent_share"]) == (sc, 512, q)]
                self.assertEqual(sorted(got), sorted(self.contenders), (sc, q))
        for c in ("ptxn-clear", "ptxn-merge", "ptxn-auto", "ptxn-clear-ptes",
                  "ptxn-merge-ptes", "ptxn-auto-ptes"):
            self.assertIn(c, self.contenders)

    def test_xen_pv_rows(self):
        pv = [r for r in self.report["rows"] if r["scenario"] == "paravirt-1000ns"]
        names = {r["contender"] for r in pv}
        self.assertTrue({"xen-pv", "xen-pv-unbatched", "linux-clear"} <= names, names)
        for r in pv:
            if r["contender"] == "xen-pv" and r["entries"] >= 512:
                # 32 commits per multicall: about 1/32 trap per entry
                self.assertLess(r["traps_per_entry"], 0.05, r)
            if r["contender"] == "xen-pv-unbatched":
                self.assertGreaterEqual(r["traps_per_entry"], 1.0, r)

    def test_ratios_from_the_same_cell(self):
        rows = self.report["rows"]
        cells = {}
        for r in rows:
            cells.setdefault((r["scenario"], r["entries"], r["quiescent_share"]), {})[
                r["contender"]] = r
        checked = 0
        for r in rows:
            peers = cells[(r["scenario"], r["entries"], r["quiescent_share"])]
            for peer, field in (("linux-clear", "ratio_vs_linux_clear"),
                                ("unsafe-rmw", "ratio_vs_unsafe_rmw")):
                if peer not in peers:
                    self.assertIsNone(r[field], r)
                    continue
                basis = r["ratio_basis"]
                want = r[basis] / peers[peer][basis]
                self.assertAlmostEqual(r[field], want, delta=1e-3 * max(1.0, want), msg=r)
                checked += 1
            if r["contender"] == "linux-clear":
                self.assertEqual(r["ratio_vs_linux_clear"], 1.0)
        self.assertGreater(checked, 40)

    def test_instruction_counts(self):
        if not shutil.which("valgrind"):
            self.skipTest("valgrind not installed")
        for r in self.report["rows"]:
            if r["scenario"] == "no-hw":
                self.assertGreater(r["instructions_per_entry"] or 0, 0, r)
            else:
                self.assertIsNone(r["instructions_per_entry"], r)

    def test_no_spurious_fault_without_a_break(self):
        # unsafe-rmw and memory-bound never make an entry invalid: a fault charged to them
        # is one that belonged to the contender before (agents must be stopped to count)
        hot = [r for r in self.report["rows"] if r["scenario"] == "hot-2cpu"]
        self.assertTrue(hot)
        for r in hot:
            if r["contender"] in ("unsafe-rmw", "memory-bound", "freebsd-cas", "lock-and", "ptxn-merge",
                                  "ptxn-merge-ptes", "bare-auto"):
                self.assertEqual(r["spurious_faults_per_entry"], 0, r)


class BrokenContender(unittest.TestCase):
    def test_broken_contender_fails_the_run(self):
        with tempfile.TemporaryDirectory(prefix="ptxn-test-bench-") as tmp:
            args = ["--sizes", "512", "--shares", "0.5", "--samples", "2", "--no-plot",
                    "--no-count", "--contenders"]
            rc, out, report = run_bench(args + ["linux-clear,unsafe-rmw"], tmp)
            self.assertEqual(rc, 0, out[-2000:])  # the control passes
            os.unlink(os.path.join(tmp, "bench.json"))
            rc, out, report = run_bench(args + ["linux-clear,broken-skip"], tmp)
            self.assertEqual(rc, 1, out[-2000:])
            self.assertIn("broken-skip left entry 63 wrong", out)
            self.assertIsNone(report)  # no report from a failed run
            # the program itself, in count mode too
            res = subprocess.run([os.path.join(tmp, "build", "compare"), "--count",
                                  "--sizes", "4096", "--contenders", "broken-skip"],
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 1)
            self.assertIn("broken-skip left entry 63 wrong (rw-ro", res.stderr)


class UnderQemu(unittest.TestCase):
    def test_counts_not_times(self):
        if not (shutil.which("aarch64-linux-gnu-gcc") and shutil.which("qemu-aarch64-static")):
            self.skipTest("no aarch64 toolchain or qemu-aarch64-static (./matrix setup)")
        with tempfile.TemporaryDirectory(prefix="ptxn-test-bench-") as tmp:
            rc, out, report = run_bench(
                ["-t", "aarch64-lse", "--quick", "--sizes", "512", "--shares", "1",
                 "--contenders", "linux-clear,ptxn-auto,unsafe-rmw"], tmp)
            self.assertEqual(rc, 0, out[-2000:])
        self.assertTrue(report["under_qemu"])
        rows = {r["contender"]: r for r in report["rows"]}
        self.assertEqual(sorted(rows), ["linux-clear", "ptxn-auto", "unsafe-rmw"])
        for r in rows.values():
            self.assertIsNone(r["ns_per_entry"])
            self.assertEqual(r["ratio_basis"], "instructions_per_entry")
            # a handful of instructions per entry change, not the whole program's
            self.assertTrue(3 < r["instructions_per_entry"] < 500, r)
        self.assertGreaterEqual(rows["ptxn-auto"]["ratio_vs_unsafe_rmw"], 1.0)


class Parsing(unittest.TestCase):
    def test_exec_log(self):
        begin, end = 0x404F40, 0x404F80
        line = "Trace 0: 0x7f00 [0000000000001001/%016x/00000001/00000201] %s\n"
        log = [line % (0x401000, "main"), line % (begin, "bench_mark_begin"),
               line % (begin + 4, "bench_mark_begin")] + \
            [line % (0x403000 + 4 * i, "sweep_linux_clear") for i in range(5)] + \
            [line % (end, "bench_mark_end"), line % (0x401000, "main"),
             line % (begin, ""), "garbage line\n", "Trace 0: 0x1 [broken\n"] + \
            [line % (0x403000, "") for i in range(3)] + [line % (end, "")]
        self.assertEqual(bench.count_exec_log(log, begin, end), {0: 6, 1: 3})

    def test_assemble_counts_only(self):
        counts = {("linux-clear", 512, 0.5): 20.0, ("unsafe-rmw", 512, 0.5): 10.0,
                  ("ptxn-auto", 512, 0.5): 30.0}
        rows = bench.assemble([], counts, [])
        by = {r["contender"]: r for r in rows}
        self.assertEqual(by["ptxn-auto"]["ratio_basis"], "instructions_per_entry")
        self.assertEqual(by["ptxn-auto"]["ratio_vs_linux_clear"], 1.5)
        self.assertEqual(by["ptxn-auto"]["ratio_vs_unsafe_rmw"], 3.0)
        self.assertIsNone(by["ptxn-auto"]["ns_per_entry"])

    def test_marks_need_both_directions(self):
        marks = [{"mark": 0, "contender": "a", "entries": 4, "quiescent_share": 0},
                 {"mark": 1, "contender": "a", "entries": 4, "quiescent_share": 0},
                 {"mark": 2, "contender": "b", "entries": 4, "quiescent_share": 0}]
        self.assertEqual(bench.marks_to_counts(marks, {0: 40, 1: 24, 2: 8}),
                         {("a", 4, 0): 8.0})
        with self.assertRaises(bench.BenchError):
            bench.marks_to_counts(marks, {0: 40})


if __name__ == "__main__":
    unittest.main(verbosity=2)
