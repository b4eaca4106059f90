# SPDX-License-Identifier: MIT
"""The *-system rows: every SystemTarget of ./matrix has a guest that baremetal/bmrun.py
knows how to boot and baremetal/Makefile knows how to build, with the same QEMU and CPU,
and bmrun's verdict on a finished guest follows each row's exit-status convention."""

import os
import re
import sys
import unittest

from ptxn_tools.common import ROOT
from ptxn_tools.targets import TARGETS

sys.path.insert(0, os.path.join(ROOT, "baremetal"))
import bmrun  # noqa: E402  (baremetal/ is not a package of these tools)


class SystemTargetsTest(unittest.TestCase):
    def system_targets(self):
        # the guests bmrun.py boots (x86_64-linux is a system row run by kmrun.py)
        return [t for t in TARGETS if t.kind == "system" and t.runner_module == "bmrun"]

    def test_every_row_has_a_guest(self):
        with open(os.path.join(ROOT, "baremetal", "Makefile")) as f:
            made = set(re.findall(r"^(?:else )?ifeq \(\$\(TARGET\),([\w-]+)\)", f.read(), re.M))
        names = [t.name for t in self.system_targets()]
        self.assertIn("riscv64-system", names)
        for t in self.system_targets():
            self.assertIn(t.name, bmrun.TARGETS)
            self.assertIn(t.name, made)
            binary, _machine, cpu = bmrun.TARGETS[t.name][:3]
            self.assertEqual(binary, t.runs_on)
            self.assertEqual(cpu, t.cpu)
        self.assertEqual(set(names), set(bmrun.TARGETS))

    def test_exit_status(self):
        ok = [{"name": "race-auto", "status": "pass"}]
        p = bmrun.guest_problem
        self.assertIsNone(p("riscv64-system", False, None, "PASS", ok, 0))
        self.assertIn("qemu exited 3", p("riscv64-system", False, None, "PASS", ok, 3))
        self.assertIn("unexpected", p("riscv64-system", False, None, "PASS", ok, 1))
        self.assertIsNone(p("x86_64-system", False, None, "PASS", ok, 1))
        self.assertIn("qemu exited 3", p("x86_64-system", False, None, "PASS", ok, 3))
        # a failing case is reported by the case itself, with the fail status
        bad = [{"name": "race-auto", "status": "fail"}]
        self.assertIsNone(p("riscv64-system", False, None, "FAIL", bad, 3))
        # rows that power off through firmware have no exit-status convention
        self.assertIsNone(p("aarch64-system", False, None, "PASS", ok, 0))
        self.assertIn("without PTXN-RESULT", p("riscv64-system", False, None, None, [], 0))
        self.assertIn("panic", p("riscv64-system", False, "boom", "FAIL", [], 3))
        self.assertIn("did not finish", p("riscv64-system", True, None, None, [], None))


if __name__ == "__main__":
    unittest.main()
