# SPDX-License-Identifier: MIT
"""How ./matrix runs the i686-host row (issue 16), tested on any machine.

The row runs natively where the host kernel executes i686 binaries and under qemu-i386
-cpu max where it does not; PTXN_I686_HOST=native|qemu overrides the probe. On a machine
that can run i686 binaries the qemu path would never run in CI, so it is exercised here:
the choice of runner, the machine files, the note that reports carry, the JUnit
properties, and one real build of the smoke test configured with the qemu overlay and run
through it (it checks uname and the CPU model qemu emulates).

Run by `meson test` on the host GCC build (tools/meson.build); by hand:
`cd tools && python3 -m unittest -v ptxn_tools.tests.test_i686_runner`.
"""

import os
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from ptxn_tools import targets
from ptxn_tools.build import meson_setup, publish_junit
from ptxn_tools.common import log_tail
from ptxn_tools.targets import BY_NAME, i686_host_runner, probe_i686


def decide(env_value):
    """Decide the runner afresh (it is decided once per ./matrix run) under
    PTXN_I686_HOST=env_value (None: unset)."""
    old = os.environ.pop("PTXN_I686_HOST", None)
    if env_value is not None:
        os.environ["PTXN_I686_HOST"] = env_value
    try:
        targets._i686_runner = None
        i686_host_runner()  # decide now, under this environment
    finally:
        os.environ.pop("PTXN_I686_HOST", None)
        if old is not None:
            os.environ["PTXN_I686_HOST"] = old


class RunnerChoice(unittest.TestCase):
    def test_forced_qemu(self):
        decide("qemu")
        t = BY_NAME["i686-host"]
        self.assertEqual(i686_host_runner(), ("qemu", "PTXN_I686_HOST=qemu"))
        self.assertEqual(t.runs_on, "qemu-i386")
        self.assertTrue(t.under_qemu)
        self.assertEqual(t.cpu, "max")
        self.assertEqual(t.machine_files, ["cross-files/i686-host.ini",
                                           "cross-files/i686-host.under-qemu.ini"])
        self.assertIn("qemu-i386 -cpu max", t.note)
        # the i686-qemu row keeps its own, different CPU
        self.assertEqual(BY_NAME["i686-qemu"].cpu, "pentium2")

    def test_forced_native(self):
        decide("native")
        t = BY_NAME["i686-host"]
        self.assertEqual(t.runs_on, "host")
        self.assertFalse(t.under_qemu)
        self.assertEqual(t.machine_files, ["cross-files/i686-host.ini"])
        self.assertIsNone(t.note)

    def test_bad_value_is_refused(self):
        with self.assertRaises(SystemExit) as cm:
            decide("sometimes")
        self.assertIn("PTXN_I686_HOST", str(cm.exception))

    @unittest.skipUnless(shutil.which("i686-linux-gnu-gcc"), "no i686 cross compiler")
    def test_probe_agrees_with_running_a_binary(self):
        decide(None)
        ok, why = probe_i686()
        with tempfile.TemporaryDirectory() as d:
            src, exe = os.path.join(d, "t.c"), os.path.join(d, "t")
            with open(src, "w") as f:
                f.write("int main(void) { return 0; }\n")
            subprocess.run(["i686-linux-gnu-gcc", src, "-o", exe], check=True)
            try:
                runs = subprocess.run([exe]).returncode == 0
            except OSError:
                runs = False
        self.assertEqual(ok, runs, why)
        self.assertEqual(i686_host_runner()[0], "native" if runs else "qemu")

    def test_junit_properties_say_where_it_ran(self):
        decide("qemu")
        t = BY_NAME["i686-host"]
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "in.xml")
            with open(src, "w") as f:
                f.write('<testsuites><testsuite name="ptxn.smoke_slot" tests="1">'
                        '<testcase name="a"/></testsuite></testsuites>')
            publish_junit(t, src, d)
            root = ET.parse(os.path.join(d, "junit", "i686-host.xml")).getroot()
            props = {p.get("name"): p.get("value")
                     for p in root.find("testsuite").find("properties")}
        self.assertEqual(props["runs_on"], "qemu-i386")
        self.assertEqual(props["cpu"], "max")
        self.assertIn("PTXN_I686_HOST=qemu", props["note"])


@unittest.skipUnless(shutil.which("i686-linux-gnu-gcc") and shutil.which("qemu-i386-static"),
                     "no i686 cross compiler or qemu-i386-static")
class QemuOverlayBuild(unittest.TestCase):
    """The overlay really works: configured as ./matrix configures i686-host under qemu,
    the smoke test builds and passes through the wrapper (uname i686, CPU model max)."""

    def test_smoke_test_runs_under_the_overlay(self):
        decide("qemu")
        t = BY_NAME["i686-host"]
        bdir = tempfile.mkdtemp(prefix="ptxn-i686-overlay-")
        try:
            log = os.path.join(bdir, "matrix.log")
            open(log, "w").close()
            self.assertEqual(meson_setup(t, bdir, log), 0, log_tail(log))
            r = subprocess.run(["meson", "test", "-C", bdir, "smoke_slot", "--print-errorlogs"],
                               env=dict(os.environ, PTXN_TEST_SCALE="0.01"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.assertEqual(r.returncode, 0, r.stdout[-3000:])
            with open(os.path.join(bdir, "meson-logs", "testlog.txt")) as f:
                text = f.read()
            self.assertIn("qemu-i386-static -cpu max", text)
            # configured again with the same files: nothing to do, the build is kept
            self.assertEqual(meson_setup(t, bdir, log), 0)
            self.assertTrue(os.path.exists(os.path.join(bdir, "tests", "test_smoke_slot")))
        finally:
            shutil.rmtree(bdir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
