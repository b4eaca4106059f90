# SPDX-License-Identifier: MIT
"""The x86_64-linux row (issue 21, examples/linux-module/, docs/linux-module.md), tested
on any machine without booting: the row is registered as a qemu-system row run by
kmrun.py; where the kernel packages are missing it is a skip with the reason (one skipped
JUnit case, counted as skipped by ./matrix, never failed or dropped); the qemu command is
the one documented; setup reads apt-cache's candidates right.

By hand: `cd tools && python3 -m unittest -v ptxn_tools.tests.test_linux_row`.
"""

import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from unittest import mock

from ptxn_tools import build, setup
from ptxn_tools.common import ROOT
from ptxn_tools.targets import BY_NAME

sys.path.insert(0, os.path.join(ROOT, "examples", "linux-module"))
import kmrun  # noqa: E402


class LinuxRow(unittest.TestCase):
    def test_registered_as_system_row(self):
        t = BY_NAME["x86_64-linux"]
        self.assertEqual(t.kind, "system")
        self.assertEqual(t.runner_module, "kmrun")
        self.assertTrue(os.path.exists(os.path.join(ROOT, t.runner_dir, "kmrun.py")))
        self.assertTrue(t.runs_on.startswith("qemu-system"))  # sized in hw A/D events

    def test_missing_kernel_is_a_skip_with_the_reason(self):
        with tempfile.TemporaryDirectory() as out:
            log = os.path.join(out, "cases.log")
            s = kmrun.run_target(out=out, kernel="0.0.0-not-installed-amd64", case_log=log)
            self.assertEqual(s["status"], "skipped")
            self.assertEqual((s["cases"], s["skipped"], s["failed"]), (1, 1, 0))
            self.assertIn("linux-image-amd64", s["skip_reason"])
            case = ET.parse(os.path.join(out, "junit.xml")).find(".//testcase")
            self.assertIn("linux-headers-amd64", case.find("skipped").get("message"))
            with open(log) as f:
                rec = json.loads(f.readline())
            self.assertEqual((rec["status"], rec["test"]), ("skip", "linux"))

    def test_matrix_counts_the_skip(self):
        with tempfile.TemporaryDirectory() as out, \
                mock.patch.object(build, "BUILD", out), \
                mock.patch.object(build, "REPORTS", out), \
                mock.patch.object(kmrun, "find_kernel", lambda k=None: (None, "no kernel here")):
            r = build.run_target(BY_NAME["x86_64-linux"],
                                 SimpleNamespace(scale=1.0, quick=True), 0.1)
            self.assertEqual((r.run, r.passed, r.failed, r.skipped), (1, 0, 0, 1))
            self.assertEqual(r.status, "skipped")
            self.assertEqual(r.skip_reason, "no kernel here")

    def test_qemu_command(self):
        cmd = kmrun.qemu_command("/boot/vmlinuz-X", "/tmp/i.cpio.gz", 0.1)
        self.assertEqual(cmd[0], "qemu-system-x86_64")
        for pair in (["-accel", "tcg,thread=multi"], ["-smp", "2"], ["-cpu", "max"],
                     ["-kernel", "/boot/vmlinuz-X"], ["-initrd", "/tmp/i.cpio.gz"],
                     ["-nic", "none"]):
            i = cmd.index(pair[0])
            self.assertEqual(cmd[i + 1], pair[1])
        append = cmd[cmd.index("-append") + 1]
        self.assertIn("rounds=%d" % int(kmrun.FULL_ROUNDS * 0.1), append)
        self.assertIn("panic=-1", append)

    def test_setup_reads_apt_candidates(self):
        out = ("linux-image-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-3\n"
               "busybox-static:\n  Installed: (none)\n  Candidate: (none)\n")
        with mock.patch.object(setup.subprocess, "run",
                               return_value=SimpleNamespace(stdout=out, returncode=0)):
            self.assertEqual(setup.installable(["linux-image-amd64", "busybox-static"]),
                             ["linux-image-amd64"])


if __name__ == "__main__":
    unittest.main()
