#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one case of sanitize_bites and check what the sanitizer said about it (TAP).

usage: expect_report.py --report | --clean [--pattern REGEX]... -- PROGRAM CASE

--report: the case is broken on purpose; the program must fail (non-zero exit, its Check
          case "not ok") and its output must contain every --pattern (the sanitizer's
          report naming the fault and the function that has it).
--clean:  the case is correct; the program must pass and no sanitizer may report anything.

A sanitizer that stays silent, or reports without failing the test case, fails this test:
the sanitizer rows of ./matrix (docs/reliability.md) then could not be trusted.
"""
import argparse
import os
import re
import subprocess
import sys

REPORT = re.compile(r"(ERROR|WARNING): (Address|Thread|Leak|UndefinedBehavior)Sanitizer|"
                    r"runtime error:")


def main():
    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--report", action="store_true")
    g.add_argument("--clean", action="store_true")
    p.add_argument("--pattern", action="append", default=[])
    p.add_argument("cmd", nargs="+")
    a = p.parse_args()
    env = dict(os.environ, CK_TAP_LOG_FILE_NAME="-", CK_VERBOSITY="silent")
    r = subprocess.run(a.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       stdin=subprocess.DEVNULL, text=True, errors="replace", timeout=600)
    out = r.stdout
    checks = []
    if a.report:
        checks.append(("the program fails (exit %d)" % r.returncode, r.returncode != 0))
        checks.append(("its Check case is reported failed", "\nnot ok 1" in "\n" + out))
        for pat in a.pattern:
            checks.append(("the output matches /%s/" % pat, re.search(pat, out) is not None))
    else:
        checks.append(("the program passes (exit %d)" % r.returncode, r.returncode == 0))
        checks.append(("no sanitizer report", REPORT.search(out) is None))
    print("1..%d" % len(checks))
    for i, (what, ok) in enumerate(checks, 1):
        print("%s %d - %s %s" % ("ok" if ok else "not ok", i, " ".join(a.cmd[-1:]), what))
    if not all(ok for _, ok in checks):
        print("# --- program output ---")
        for line in out.splitlines()[-60:]:
            print("# " + line)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
