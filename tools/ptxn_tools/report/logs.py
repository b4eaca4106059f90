# SPDX-License-Identifier: MIT
"""Reading what a test run left: the case log (tests/case_log.h), `PTXN-CASE` console
lines, Meson's JSON test log, its JUnit log, and Check's TAP lines.

Part of the conformance report (ptxn_tools.report, docs/report.md).
"""

import json
import os
import re
import xml.etree.ElementTree as ET

from ..common import tail
from .common import CHECK_DESC, CONSOLE_TAG, METRICS, RECORD_FIELDS, TAP_LINE


# ------------------------------------------------------------------- reading the logs


def parse_record(obj, default_test=None):
    """A case-log or console record -> normalised dict, or (None, why) if unusable."""
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
        return None, "not an object with a name"
    rec = {"test": obj.get("test") if isinstance(obj.get("test"), str) and obj.get("test")
           else default_test, "name": obj["name"]}
    for k in ("strategy", "format", "message"):
        v = obj.get(k)
        rec[k] = v if isinstance(v, str) and v != "" else None
    if rec["strategy"] in ("none", "null"):  # spelled out by a console line: no strategy
        rec["strategy"] = None
    st = obj.get("status")
    rec["status"] = st if st in ("pass", "fail", "skip") else ("fail" if st is False else "pass")
    for k in METRICS:
        v = obj.get(k, 0)
        rec[k] = v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0
    v = obj.get("traps")
    rec["traps"] = v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None
    v = obj.get("seconds")
    rec["seconds"] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) \
        and v >= 0 else None
    # anything else the test logged (scalars only), kept as it came
    rec["extra"] = {k: v for k, v in obj.items() if k not in RECORD_FIELDS and
                    (v is None or isinstance(v, (str, int, float, bool)))}
    return rec, None


def read_case_log(path):
    """JSON lines written by tests/case_log.h -> (records, warnings)."""
    records, warnings = [], []
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return records, warnings
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec, why = parse_record(json.loads(line))
        except ValueError as e:
            rec, why = None, str(e)
        if rec is None:
            warnings.append("case log %s line %d ignored: %s" % (os.path.basename(path), i, why))
        else:
            rec["source"] = "case-log"
            records.append(rec)
    return records, warnings


def parse_console(text, default_test=None):
    """`PTXN-CASE {json}` lines anywhere in console output -> (records, warnings)."""
    records, warnings = [], []
    for line in (text or "").splitlines():
        i = line.find(CONSOLE_TAG)
        if i < 0:
            continue
        payload = line[i + len(CONSOLE_TAG):].strip()
        try:
            rec, why = parse_record(json.loads(payload), default_test)
        except ValueError as e:
            rec, why = None, str(e)
        if rec is None:
            warnings.append("console line ignored (%s): %s" % (why, line.strip()[:120]))
        else:
            rec["source"] = "console"
            records.append(rec)
    return records, warnings


def read_meson_json_log(path):
    """Meson's testlog-*.json: one object per test executable."""
    execs = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                d.pop("env", None)
                execs.append(d)
    return execs


def read_junit(path):
    """Meson's JUnit log -> list of {suite, name, status, text, time}."""
    out = []
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        for case in suite.findall("testcase"):
            if case.find("skipped") is not None:
                status, el = "skip", None
            elif case.find("failure") is not None:
                status, el = "fail", case.find("failure")
            elif case.find("error") is not None:
                status, el = "fail", case.find("error")
            else:
                status, el = "pass", None
            t = case.get("time")
            out.append({"suite": suite.get("name") or "", "name": case.get("name") or "",
                        "status": status, "text": (el.text or "").strip() if el is not None
                        else "", "time": float(t) if t else None})
    return out


def tap_descriptions(stdout):
    """TAP lines of a test's stdout -> {number: full description} (Meson's JUnit drops
    anything after ' # ', which a failure message may contain)."""
    out = {}
    for line in (stdout or "").splitlines():
        m = TAP_LINE.match(line.strip())
        if m:
            out[int(m.group(2))] = m.group(3)
    return out


def tap_context(stdout, number, stderr=None):
    """The TAP line of case `number` with the diagnostics printed just before it, and the
    tail of stderr: what a person needs next to a failure message."""
    lines = (stdout or "").splitlines()
    out = []
    for i, line in enumerate(lines):
        m = TAP_LINE.match(line.strip())
        if m and int(m.group(2)) == number:
            j = i
            while j > 0 and not TAP_LINE.match(lines[j - 1].strip()) and i - j < 15:
                j -= 1
            out = lines[j:i + 1]
            break
    text = "\n".join(out)
    if stderr and stderr.strip():
        text += ("\n" if text else "") + "stderr:\n" + tail(stderr, 15)
    return text


def split_subtest(name, full_desc=None):
    """JUnit subtest name "3 - file:tcase:test: msg" -> (number, test function, message)."""
    m = re.match(r"^\s*(\d+)\s*(?:-\s*)?(.*)$", name, re.S)
    number, desc = (int(m.group(1)), m.group(2)) if m else (None, name)
    if full_desc:
        desc = full_desc
    c = CHECK_DESC.match(desc)
    if c:
        return number, c.group("test"), c.group("msg").strip() or None
    return number, desc.strip() or name, None
