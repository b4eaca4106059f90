# SPDX-License-Identifier: MIT
"""Configuring, building and testing one target the way `./matrix test` does, reading
Meson's logs into a Result, and publishing a target's JUnit log; `./matrix report` and the
soak reuse the steps."""

import importlib
import os
import shutil
import sys
import time
import xml.etree.ElementTree as ET

from .common import BUILD, REPORTS, ROOT, log_tail, say, step, tail
from .report.logs import read_junit, read_meson_json_log
from .targets import QUICK_SCALE

class Result:
    def __init__(self, target):
        self.target = target
        self.run = 0
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.seconds = 0.0
        self.status = "ok"  # ok | FAIL | setup failed | build failed
        self.failures = []  # (test name, output tail)
        self.skip_reason = None  # why a whole row did not run here (x86_64-linux)



def parse_results(res, bdir, logbase):
    """Fill `res` from Meson's JUnit log (test cases) and JSON log (executables)."""
    logs = os.path.join(bdir, "meson-logs", logbase)
    failed_cases = {}  # JUnit suite name ("ptxn.<test>") -> names of its failed cases
    try:
        cases = read_junit(logs + ".junit.xml")
        execs = read_meson_json_log(logs + ".json")
    except (OSError, ET.ParseError, ValueError) as e:
        res.run, res.failed = res.run + 1, res.failed + 1
        res.failures.append(("(meson logs)", "cannot read %s: %s" % (logbase, e)))
        return
    for case in cases:
        res.run += 1
        if case["status"] == "skip":
            res.skipped += 1
        elif case["status"] == "fail":
            res.failed += 1
            failed_cases.setdefault(case["suite"], []).append(case["name"])
        else:
            res.passed += 1
    for t in execs:
        name, result = t["name"], t.get("result")
        out = tail((t.get("stdout") or "") + (t.get("stderr") or ""), 25)
        cases = failed_cases.get(name if "." in name else "ptxn." + name, [])
        for c in cases:
            res.failures.append(("%s: %s" % (name, c), ""))
        if result in ("OK", "SKIP", "EXPECTEDFAIL") and not cases:
            continue
        if not cases:
            # crash, timeout or bad exit code with every reported case passing (or none)
            res.run, res.failed = res.run + 1, res.failed + 1
            res.failures.append(("%s (executable: %s)" % (name, result), out))
        else:
            res.failures[-1] = (res.failures[-1][0], out)


def meson_setup(t, bdir, log):
    """Configure build/<target> if it is not configured with the target's machine files as
    they are now (first time, a setup that failed half-way, or another i686-host runner:
    start clean). Returns meson setup's exit code, 0 when nothing was to do."""
    stamp = os.path.join(bdir, "ptxn-machine-files")
    want = "\n".join(t.machine_files) + "\n"
    if os.path.exists(os.path.join(bdir, "meson-private", "coredata.dat")):
        try:
            with open(stamp) as f:
                if f.read() == want:
                    return 0
        except OSError:
            pass
    keep = os.path.relpath(log, bdir).split(os.sep)[0]  # the log being written
    for name in os.listdir(bdir):
        if name != keep:
            path = os.path.join(bdir, name)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) \
                else os.remove(path)
    opt = "--native-file" if t.kind == "native" else "--cross-file"
    rc = step(["meson", "setup"] + [a for f in t.machine_files for a in (opt, f)] + [bdir], log)
    if rc == 0:
        with open(stamp, "w") as f:
            f.write(want)
    return rc


def publish_junit(t, src, reports=None):
    """Copy a target's JUnit log to <reports>/junit/<target>.xml, each <testsuite> given
    <properties> saying where it ran (runs_on, cpu, and the note if the row ran otherwise
    than its table row says, e.g. i686-host under qemu)."""
    if not os.path.exists(src):
        return
    props = {"target": t.name, "runs_on": t.runs_on,
             "cpu": t.cpu if t.under_qemu else "host", "toolchain": t.toolchain}
    if t.note:
        props["note"] = t.note
    try:
        tree = ET.parse(src)
    except ET.ParseError:
        tree = None
    dst_dir = os.path.join(reports or REPORTS, "junit")
    os.makedirs(dst_dir, exist_ok=True)
    dst = os.path.join(dst_dir, t.name + ".xml")
    if tree is None:
        shutil.copy(src, dst)
        return
    root = tree.getroot()
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        old = suite.find("properties")
        if old is not None:
            suite.remove(old)
        el = ET.Element("properties")
        for k, v in props.items():
            ET.SubElement(el, "property", name=k, value=v)
        suite.insert(0, el)
    tree.write(dst, encoding="utf-8", xml_declaration=True)


def run_system_target(t, args, case_log=None):
    """A *-system row: baremetal/bmrun.py builds the guest and boots it under qemu-system
    (x86_64-linux: examples/linux-module/kmrun.py boots Debian's kernel with the module).
    Full size (10^5 A/D events per strategy) at --scale 1; QEMU_SCALE does not apply.
    case_log: where ./matrix report wants the cases recorded (None: nowhere)."""
    # The guests and their runner scripts are not a package of these tools: the runner's
    # directory goes on the path to import it.
    bm = os.path.join(ROOT, t.runner_dir)
    if bm not in sys.path:
        sys.path.insert(0, bm)
    runner = importlib.import_module(t.runner_module)
    res = Result(t)
    say("==> %s: %s, runs on %s -cpu %s" % (t.name, t.toolchain, t.runs_on, t.cpu))
    s = runner.run_target(t.name, os.path.join(BUILD, t.name),
                          args.scale * (QUICK_SCALE if args.quick else 1.0),
                          case_log=case_log)
    res.skip_reason = s.get("skip_reason")
    if res.skip_reason:
        say("    skipped: " + res.skip_reason)
    res.run, res.passed, res.failed, res.skipped = (s["cases"], s["passed"], s["failed"],
                                                    s["skipped"])
    res.seconds, res.failures = s["seconds"], [tuple(f) for f in s["failures"]]
    res.status = s["status"]
    publish_junit(t, os.path.join(BUILD, t.name, "junit.xml"))
    say("    %s: %d run, %d passed, %d failed (%.1fs)"
        % (res.status, res.run, res.passed, res.failed, res.seconds))
    return res


def run_target(t, args, scale, case_log=None):
    if t.kind == "system":
        return run_system_target(t, args, case_log)
    res = Result(t)
    bdir = os.path.join(BUILD, t.name)
    log = os.path.join(bdir, "matrix.log")
    logbase = "testlog-" + t.name
    t0 = time.monotonic()
    os.makedirs(bdir, exist_ok=True)
    with open(log, "w"):
        pass

    say("==> %s: %s, runs on %s%s" % (t.name, t.toolchain, t.runs_on,
                                       ", -cpu " + t.cpu if t.under_qemu else ""))
    if t.note:
        say("    note: " + t.note)
    if meson_setup(t, bdir, log) != 0:
        res.status, res.failed, res.run = "setup failed", 1, 1
        res.failures.append(("meson setup", log_tail(log)))
        res.seconds = time.monotonic() - t0
        return res
    # meson compile regenerates by itself when meson.build or the machine file changed
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    rc = step(["meson", "compile", "-C", bdir] + jobs, log)
    if rc != 0:
        res.status, res.failed, res.run = "build failed", 1, 1
        res.failures.append(("meson compile", log_tail(log)))
        res.seconds = time.monotonic() - t0
        return res
    env = dict(os.environ, PTXN_TEST_SCALE=repr(scale))
    nproc = ["--num-processes", str(args.jobs)] if args.jobs else []
    rc = step(["meson", "test", "-C", bdir, "--logbase", logbase, "--print-errorlogs"] + nproc
              + getattr(t, "test_args", []),
              log, env=env)
    parse_results(res, bdir, logbase)
    if rc != 0 and res.failed == 0:
        res.failed, res.run = 1, res.run + 1
        res.failures.append(("meson test (exit %d)" % rc, log_tail(log)))
    if res.failed:
        res.status = "FAIL"
    publish_junit(t, os.path.join(bdir, "meson-logs", logbase + ".junit.xml"))
    res.seconds = time.monotonic() - t0
    say("    %s: %d run, %d passed, %d failed (%.1fs)"
        % (res.status, res.run, res.passed, res.failed, res.seconds))
    return res
