# SPDX-License-Identifier: MIT
"""ptxn conformance report: the code behind `./matrix report` (docs/report.md).

For each selected target it configures, builds (keeping going past a test that does not
compile) and runs `meson test` with PTXN_CASE_LOG pointing at build/<target>/case-log.jsonl,
then makes one case per Check test case from Meson's JUnit log, fills in the metrics the
case logged (tests/case_log.h, or `PTXN-CASE {json}` lines in a test's console output), and
adds a failed case for every test executable that crashed or did not build. It writes
reports/<target>.{json,md} and reports/matrix.{json,md,html}, every JSON file validated
against docs/report.schema.json first, and prints the matrix.

Nothing in here knows a particular test: whatever Meson runs is reported.

The pure parts (parsing, joining, rendering, validating) take plain data and are tested by
tools/test_report.py; run_report() is the driver and gets ./matrix's module for targets,
setup and build steps.
"""

import datetime
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCHEMA_PATH = os.path.join(ROOT, "docs", "report.schema.json")
SCHEMA_VERSION = 1

# Column order of the known strategies; others follow alphabetically, then the cases
# without a strategy. Only an order: a strategy nobody logs gets no column.
STRATEGY_ORDER = ["clear", "merge", "auto", "unsafe-rmw", "plain-rmw"]
NO_STRATEGY = "no strategy"

# Issue #7: a default (not --quick) run means something only with at least this many
# transactions per strategy on a target; below, the report carries a warning.
MIN_TRANSACTIONS = {"host": 10 ** 6, "qemu": 10 ** 5}

CONSOLE_TAG = "PTXN-CASE "
RECORD_FIELDS = ("test", "name", "strategy", "format", "status", "transactions", "hw_events",
                 "lost_updates", "spurious_faults", "traps", "seconds", "message")
METRICS = ("transactions", "hw_events", "lost_updates", "spurious_faults")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Check's TAP line after "ok N - ": file[:line]:tcase:test: message
CHECK_DESC = re.compile(r"^(?P<file>[^:]*):(?:\d+:)?(?P<tcase>[^:]*):(?P<test>[^:\s]+): ?"
                        r"(?P<msg>.*)$", re.S)
TAP_LINE = re.compile(r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*)$")


class ReportError(Exception):
    """A report that does not match the schema: a bug in this file, not in a test."""


# ------------------------------------------------------------------------------ helpers


def tail(text, n=30):
    lines = ANSI.sub("", text or "").rstrip("\n").splitlines()
    return "\n".join(lines[-n:])


def short_test_name(full):
    """Meson's test name "project:suite / name" -> "name"."""
    return full.split(" / ", 1)[-1]


def first_error_line(text):
    """The line of a build or setup log that says what went wrong."""
    lines = [ln.strip() for ln in ANSI.sub("", text or "").splitlines()]
    for pat in (r"\berror\b", r"\bERROR\b", r"^FAILED:", r"\bfailed\b"):
        for ln in lines:
            if re.search(pat, ln, re.I if pat == r"\berror\b" else 0):
                return ln[:300]
    rest = [ln for ln in lines if ln]
    return rest[-1][:300] if rest else "(no output)"


def first_failure_line(text):
    """For an exit-code test's output: the first line that reports a failure."""
    lines = [ln.strip() for ln in ANSI.sub("", text or "").splitlines() if ln.strip()]
    for ln in lines:
        if re.match(r"^(FAIL|not ok|Bail out)", ln) or re.search(r"\b(error|FAIL|abort)", ln, re.I):
            return ln[:300]
    return lines[-1][:300] if lines else None


def human(n):
    """1234567 -> '1.2M'; None -> '-'."""
    if n is None:
        return "-"
    for div, suffix in ((10 ** 9, "G"), (10 ** 6, "M"), (10 ** 3, "k")):
        if n >= div:
            v = n / div
            return ("%.1f" % v).rstrip("0").rstrip(".") + suffix if v < 100 else "%d%s" % (v, suffix)
    return str(n)


def duration(seconds):
    seconds = int(round(seconds or 0))
    return "%d:%02d" % divmod(seconds, 60) if seconds < 3600 else \
        "%d:%02d:%02d" % (seconds // 3600, seconds % 3600 // 60, seconds % 60)


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


# --------------------------------------------------------------------- building cases


def new_case(test, name, status, source, message=None, detail=None, seconds=None):
    return {"id": "", "name": name, "test": test, "strategy": None, "format": None,
            "status": status, "transactions": 0, "hw_events": 0, "lost_updates": 0,
            "spurious_faults": 0, "traps": None, "seconds": seconds, "metrics": False,
            "source": source, "message": message, "detail": detail, "extra": {}}


def apply_record(case, rec):
    """Fill a case with the metrics a test logged for it; a record that says fail fails it."""
    for k in ("strategy", "format", "traps") + METRICS:
        case[k] = rec[k]
    if rec["seconds"] is not None:
        case["seconds"] = rec["seconds"]
    case["extra"] = dict(rec["extra"])
    case["metrics"] = True
    if rec["status"] == "fail" and case["status"] != "fail":
        case["status"] = "fail"
        case["message"] = rec["message"] or "the test's own record says fail"
    elif case["status"] == "fail" and not case["message"] and rec["message"]:
        case["message"] = rec["message"]


def build_cases(execs, junit, records, build_failures=(), target_failure=None):
    """Join everything known about one target's run into its list of cases.

    execs: Meson JSON log entries (name, result, stdout, stderr, duration, ...)
    junit: read_junit() entries
    records: case-log records (test, name, ...); console records are taken from each
             exec's stdout here as well
    build_failures: [(test short name, message, detail)] for test executables that did not
             build
    target_failure: (step, message, detail) when the target failed as a whole
    Returns (cases, warnings).
    """
    warnings = []
    records = list(records)
    for e in execs:
        recs, w = parse_console(e.get("stdout"), short_test_name(e["name"]))
        records += recs
        warnings += w
    index = {}
    for rec in records:
        index.setdefault((rec["test"], rec["name"]), []).append(rec)

    cases = []
    by_exec = {e["name"]: e for e in execs}
    used = set()

    def add_joined(case):
        recs = index.pop((case["test"], case["name"]), [])
        if not recs:
            cases.append(case)
        for i, rec in enumerate(recs):
            c = dict(case) if i < len(recs) - 1 else case
            apply_record(c, rec)
            cases.append(c)

    for i, jc in enumerate(junit):
        if jc["name"] in by_exec:
            # an exit-code test: one JUnit case for the whole executable
            e = by_exec[jc["name"]]
            used.add(e["name"])
            out = (e.get("stdout") or "") + (e.get("stderr") or "")
            c = new_case(short_test_name(e["name"]), short_test_name(e["name"]), jc["status"],
                         "junit", seconds=jc["time"] if jc["time"] is not None
                         else e.get("duration"))
            if jc["status"] == "fail":
                c["message"] = "%s: %s" % (e.get("result"), first_failure_line(out) or
                                           "no output")
                c["detail"] = tail(out) or None
            add_joined(c)
            continue
        e = next((x for x in execs if jc["suite"].endswith("." + x["name"])
                  or jc["suite"] == x["name"]), None)
        test = short_test_name(e["name"]) if e else short_test_name(jc["suite"])
        if e:
            used.add(e["name"])
        number, fname, msg = split_subtest(jc["name"])
        if e and number is not None:
            full = tap_descriptions(e.get("stdout")).get(number)
            if full:
                _, fname, msg = split_subtest(jc["name"], full)
        c = new_case(test, fname, jc["status"], "junit")
        if jc["status"] == "fail":
            c["message"] = msg or jc["text"] or "failed"
            c["detail"] = tap_context((e or {}).get("stdout"), number,
                                      (e or {}).get("stderr")) or None
        add_joined(c)

    # Executables that failed without a failing case: crash after the last case, timeout,
    # bad exit code, or no TAP output at all.
    for e in execs:
        test = short_test_name(e["name"])
        mine = [c for c in cases if c["test"] == test]
        if e.get("result") in ("OK", "SKIP", "EXPECTEDFAIL") and (mine or e["name"] in used):
            continue
        if e.get("result") in ("OK", "SKIP", "EXPECTEDFAIL") and not mine:
            # ran and passed but reported no case (and none in JUnit): report it as one
            add_joined(new_case(test, test, "skip" if e.get("result") == "SKIP" else "pass",
                                "executable", seconds=e.get("duration")))
            continue
        if any(c["status"] == "fail" for c in mine):
            continue
        out = (e.get("stdout") or "") + (e.get("stderr") or "")
        rc = e.get("returncode")
        why = {"TIMEOUT": "timed out", "ERROR": "exit status %s" % rc,
               "FAIL": "exit status %s" % rc}.get(e.get("result"), str(e.get("result")))
        if isinstance(rc, int) and rc < 0:
            why = "killed by signal %d" % -rc
        cases.append(new_case(test, "(executable)", "fail", "executable",
                              message="%s after %d reported case%s" % (
                                  why, len(mine), "" if len(mine) == 1 else "s"),
                              detail=tail(out) or None, seconds=e.get("duration")))

    for test, message, detail in build_failures:
        cases.append(new_case(test, "(build)", "fail", "build", message=message, detail=detail))

    # Records nothing else claimed: their own cases (console-only targets, or a test that
    # logs finer than its Check cases).
    for (test, name), recs in list(index.items()):
        for rec in recs:
            c = new_case(test, name, rec["status"], rec["source"])
            apply_record(c, rec)
            if c["status"] == "fail" and not c["message"]:
                c["message"] = "failed"
            cases.append(c)

    if target_failure:
        step, message, detail = target_failure
        cases.append(new_case(None, "(%s)" % step, "fail", "target", message=message,
                              detail=detail))

    # unique ids: test/name; a name logged for several strategies gets [strategy]; then #n
    bases = {}
    for c in cases:
        c["id"] = "%s/%s" % (c["test"], c["name"]) if c["test"] and c["test"] != c["name"] \
            else c["name"]
        bases[c["id"]] = bases.get(c["id"], 0) + 1
    seen = set()
    for c in cases:
        base = c["id"]
        cid = "%s[%s]" % (base, c["strategy"]) if bases[base] > 1 and c["strategy"] else base
        n = 2
        while cid in seen:
            cid = "%s#%d" % (base, n)
            n += 1
        seen.add(cid)
        c["id"] = cid
    return cases, warnings


def totals(cases):
    t = {"cases": len(cases), "passed": 0, "failed": 0, "skipped": 0, "with_metrics": 0,
         "transactions": 0, "hw_events": 0, "lost_updates": 0, "expected_lost_updates": 0,
         "spurious_faults": 0, "traps": None, "seconds": 0.0}
    for c in cases:
        t[{"pass": "passed", "fail": "failed", "skip": "skipped"}[c["status"]]] += 1
        t["with_metrics"] += c["metrics"]
        t["transactions"] += c["transactions"]
        t["hw_events"] += c["hw_events"]
        t["spurious_faults"] += c["spurious_faults"]
        if c["status"] == "pass":
            t["expected_lost_updates"] += c["lost_updates"]
        else:
            t["lost_updates"] += c["lost_updates"]
        if c["traps"] is not None:
            t["traps"] = (t["traps"] or 0) + c["traps"]
        if c["seconds"] is not None:
            t["seconds"] += c["seconds"]
    t["seconds"] = round(t["seconds"], 6)
    return t


def strategy_key(name):
    if name is None:
        return (2, "")
    if name in STRATEGY_ORDER:
        return (0, "%03d" % STRATEGY_ORDER.index(name))
    return (1, name)


def strategies(cases):
    names = sorted({c["strategy"] for c in cases}, key=strategy_key)
    out = []
    for s in names:
        mine = [c for c in cases if c["strategy"] == s]
        fail = next((c for c in mine if c["status"] == "fail"), None)
        out.append({"name": s, "totals": totals(mine),
                    "first_failure": {"case": fail["id"], "message": fail["message"] or "failed"}
                    if fail else None})
    return out


def failing_cases(cases):
    """Failed cases, most telling first: the target's own step, then a test that did not
    build or crashed, then the failing cases in order."""
    rank = {"target": 0, "build": 1, "executable": 2}
    return sorted((c for c in cases if c["status"] == "fail"),
                  key=lambda c: rank.get(c["source"], 3))


def target_report(meta, cases, warnings, failed_step=None):
    """meta: name, arch, cpu, compiler, qemu, runs_on, toolchain, scale, seconds, quick."""
    t = {k: meta[k] for k in ("name", "arch", "cpu", "compiler", "qemu", "runs_on",
                              "toolchain", "scale", "seconds")}
    t["seconds"] = round(t["seconds"], 3)
    t["failed_step"] = failed_step
    t["totals"] = totals(cases)
    t["strategies"] = strategies(cases)
    t["cases"] = cases
    t["warnings"] = list(warnings)
    fails = failing_cases(cases)
    fail = fails[0] if fails else None
    if not cases:
        t["status"], t["message"] = "fail", "no test case ran"
    elif fail:
        t["status"] = "fail"
        t["message"] = "%s: %s" % (fail["id"], fail["message"] or "failed")
    else:
        t["status"], t["message"] = "pass", None
    if not meta.get("quick"):
        floor = MIN_TRANSACTIONS["qemu" if meta["qemu"] else "host"]
        small = []
        for col in sorted({column_of(c["strategy"]) for c in cases} - {None},
                          key=strategy_key):
            tt = column_stats(t, col)[0]
            if tt["expected_lost_updates"] and not tt["failed"]:
                continue  # a negative control: it exists to lose updates, not to be big
            if 0 < tt["transactions"] < floor:
                small.append("%s %s" % (col, human(tt["transactions"])))
        if small:
            t["warnings"].append("fewer than %s transactions per strategy for a full-size "
                                 "run here: %s" % (human(floor), ", ".join(small)))
    return t


def matrix_report(targets, info):
    """info: generated, ptxn_version, git, host, command, quick."""
    all_cases = [c for t in targets for c in t["cases"]]
    m = {"$comment": "SPDX-License-Identifier: MIT. Generated by ./matrix report "
                     "(tools/report.py); schema: docs/report.schema.json, docs/report.md.",
         "schema_version": SCHEMA_VERSION}
    m.update({k: info[k] for k in ("generated", "ptxn_version", "git", "host", "command",
                                   "quick")})
    m["status"] = "pass" if targets and all(t["status"] == "pass" for t in targets) else "fail"
    m["totals"] = totals(all_cases)
    m["targets"] = targets
    return m


# ------------------------------------------------------------------------- validation


def _type_ok(v, t):
    return {"object": lambda: isinstance(v, dict),
            "array": lambda: isinstance(v, list),
            "string": lambda: isinstance(v, str),
            "integer": lambda: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda: isinstance(v, bool),
            "null": lambda: v is None}[t]()


def validate(instance, schema, root=None, path="$"):
    """The subset of JSON Schema (2020-12) that docs/report.schema.json uses: $ref to
    #/$defs, type, const, enum, required, properties, additionalProperties: false, items,
    minimum, exclusiveMinimum, format: date-time. Returns a list of error strings."""
    root = schema if root is None else root
    errs = []
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return ["%s: unsupported $ref %s" % (path, ref)]
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        return validate(instance, node, root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(instance, t) for t in types):
            return ["%s: %r is not of type %s" % (path, instance, "/".join(types))]
    if "const" in schema and instance != schema["const"]:
        errs.append("%s: %r is not %r" % (path, instance, schema["const"]))
    if "enum" in schema and instance not in schema["enum"]:
        errs.append("%s: %r is not one of %r" % (path, instance, schema["enum"]))
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errs.append("%s: %r < %r" % (path, instance, schema["minimum"]))
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            errs.append("%s: %r <= %r" % (path, instance, schema["exclusiveMinimum"]))
    if isinstance(instance, str) and schema.get("format") == "date-time":
        try:
            d = datetime.datetime.fromisoformat(instance.replace("Z", "+00:00"))
            if d.tzinfo is None:
                errs.append("%s: %r has no UTC offset" % (path, instance))
        except ValueError:
            errs.append("%s: %r is not an ISO 8601 date-time" % (path, instance))
    if isinstance(instance, dict):
        for k in schema.get("required", []):
            if k not in instance:
                errs.append("%s: missing %r" % (path, k))
        props = schema.get("properties", {})
        for k, v in instance.items():
            if k in props:
                errs += validate(v, props[k], root, "%s.%s" % (path, k))
            elif schema.get("additionalProperties") is False:
                errs.append("%s: unexpected property %r" % (path, k))
    if isinstance(instance, list) and "items" in schema:
        for i, v in enumerate(instance):
            errs += validate(v, schema["items"], root, "%s[%d]" % (path, i))
    return errs


def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def check(report, schema=None):
    errs = validate(report, schema or load_schema())
    if errs:
        raise ReportError("report does not match %s:\n  %s" % (
            os.path.relpath(SCHEMA_PATH, ROOT), "\n  ".join(errs[:20])))


# -------------------------------------------------------------------------- rendering


def column_of(strategy):
    """The matrix column of a strategy: a variant "clear/cet" counts under "clear"."""
    return strategy.split("/", 1)[0] if strategy else None


def strategy_columns(targets):
    names = {column_of(c["strategy"]) for t in targets for c in t["cases"]}
    return sorted(names, key=strategy_key)


def column_stats(t, col):
    """(totals, first failing case or None) over a target's cases in column `col`."""
    mine = [c for c in t["cases"] if column_of(c["strategy"]) == col]
    fails = failing_cases(mine)
    return (totals(mine) if mine else None), (fails[0] if fails else None)


def strategy_cell(t, name):
    """(state, short text, long text) of a target x strategy column cell."""
    tt, fail = column_stats(t, name)
    if tt is None:
        return "none", "-", "no case"
    if fail:
        return "fail", "FAIL", "%s: %s" % (fail["id"], fail["message"] or "failed")
    return "pass", "ok", "%d/%d" % (tt["passed"], tt["cases"])


def lost_text(tt):
    s = human(tt["lost_updates"])
    if tt["expected_lost_updates"]:
        s += " (+%s caught)" % human(tt["expected_lost_updates"])
    return s


def any_traps(targets):
    return any(t["totals"]["traps"] is not None for t in targets)


def terminal_matrix(m):
    targets = m["targets"]
    cols = strategy_columns(targets)
    head = ["target", "status", "cases", "transactions", "hw events", "lost", "spurious",
            "traps", "time"] + [c or NO_STRATEGY for c in cols]
    rows = []
    for t in targets:
        tt = t["totals"]
        rows.append([t["name"], "pass" if t["status"] == "pass" else "FAIL",
                     "%d/%d" % (tt["passed"], tt["cases"]), human(tt["transactions"]),
                     human(tt["hw_events"]), lost_text(tt), human(tt["spurious_faults"]),
                     human(tt["traps"]), duration(t["seconds"])]
                    + [strategy_cell(t, c)[1] for c in cols])
    if not any_traps(targets):  # no paravirt case ran: no column of dashes
        head.pop(7)
        for r in rows:
            r.pop(7)
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda r: "  ".join(str(c).ljust(w[i]) if i < 2 else str(c).rjust(w[i])
                              for i, c in enumerate(r)).rstrip()
    lines = [fmt(head), fmt(["-" * n for n in w])] + [fmt(r) for r in rows]
    fails = [(t, c) for t in targets for c in failing_cases(t["cases"])]
    if fails:
        lines.append("")
        lines.append("Failed cases:")
        for t, c in fails:
            lines.append("  %s  %s: %s" % (t["name"], c["id"], c["message"] or "failed"))
    warn = [(t["name"], w_) for t in targets for w_ in t["warnings"]]
    if warn:
        lines.append("")
        lines.append("Warnings:")
        lines += ["  %s: %s" % tw for tw in warn]
    return "\n".join(lines)


def md_escape(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def md_target(t, m, link_matrix=True):
    tt = t["totals"]
    mark = "PASS" if t["status"] == "pass" else "FAIL"
    out = ["<!-- SPDX-License-Identifier: MIT -->",
           "<!-- Generated by ./matrix report (tools/report.py); do not edit. -->",
           "# ptxn conformance: %s — %s" % (t["name"], mark), ""]
    if t["message"]:
        out += ["**Why it failed:** %s" % md_escape(t["message"]), ""]
    out += ["| | |", "|---|---|",
            "| arch | %s |" % md_escape(t["arch"]), "| cpu | %s |" % md_escape(t["cpu"]),
            "| compiler | %s |" % md_escape(t["compiler"]),
            "| emulator | %s |" % md_escape(t["qemu"] or "none (runs on the host)"),
            "| toolchain | %s |" % md_escape(t["toolchain"]),
            "| PTXN_TEST_SCALE | %g |" % t["scale"],
            "| time | %s |" % duration(t["seconds"]),
            "| generated | %s, ptxn %s%s |" % (m["generated"], m["ptxn_version"],
                                              (", " + m["git"]["commit"][:12])
                                              if m["git"]["commit"] else ""), ""]
    out += ["cases %d (passed %d, failed %d, skipped %d; %d with metrics), transactions %s, "
            "hardware A/D events %s, lost updates %s, spurious faults %s, traps %s"
            % (tt["cases"], tt["passed"], tt["failed"], tt["skipped"], tt["with_metrics"],
               human(tt["transactions"]), human(tt["hw_events"]), lost_text(tt),
               human(tt["spurious_faults"]), human(tt["traps"])), ""]
    for w in t["warnings"]:
        out.append("> warning: %s" % md_escape(w))
    if t["warnings"]:
        out.append("")
    out += ["## Strategies", "", "| strategy | status | cases | transactions | hw events | "
            "lost updates | spurious faults | traps | first failure |",
            "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for s in t["strategies"]:
        st = s["totals"]
        f = s["first_failure"]
        out.append("| %s | %s | %d/%d | %s | %s | %s | %s | %s | %s |" % (
            s["name"] or NO_STRATEGY, "FAIL" if f else "pass", st["passed"], st["cases"],
            human(st["transactions"]), human(st["hw_events"]), lost_text(st),
            human(st["spurious_faults"]), human(st["traps"]),
            md_escape("%s: %s" % (f["case"], f["message"])) if f else ""))
    out += ["", "## Cases", "", "| case | strategy | format | status | transactions | "
            "hw events | lost | spurious | traps | seconds | message |",
            "|---|---|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for c in t["cases"]:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            md_escape(c["id"]), c["strategy"] or "", c["format"] or "",
            "**FAIL**" if c["status"] == "fail" else c["status"],
            c["transactions"] if c["metrics"] else "", c["hw_events"] if c["metrics"] else "",
            c["lost_updates"] if c["metrics"] else "",
            c["spurious_faults"] if c["metrics"] else "",
            "" if c["traps"] is None else c["traps"],
            "" if c["seconds"] is None else "%.3f" % c["seconds"],
            md_escape(c["message"] or "")))
    details = [c for c in t["cases"] if c["status"] == "fail" and c["detail"]]
    if details:
        out += ["", "## Failure output", ""]
        for c in details:
            out += ["### %s" % c["id"], "", "```", c["detail"], "```", ""]
    if link_matrix:
        out += ["", "All targets: [matrix.md](matrix.md), [matrix.html](matrix.html)."]
    return "\n".join(out).rstrip() + "\n"


def md_matrix(m):
    targets = m["targets"]
    cols = strategy_columns(targets)
    traps = any_traps(targets)
    tt = m["totals"]
    out = ["<!-- SPDX-License-Identifier: MIT -->",
           "<!-- Generated by ./matrix report (tools/report.py); do not edit. -->",
           "# ptxn conformance matrix — %s" % ("PASS" if m["status"] == "pass" else "FAIL"), "",
           "Generated %s by `%s`, ptxn %s%s, %s run on %s (%d cores)." % (
               m["generated"], m["command"], m["ptxn_version"],
               (" (%s%s)" % (m["git"]["commit"][:12], ", modified" if m["git"]["dirty"] else ""))
               if m["git"]["commit"] else "", "quick (CI-sized)" if m["quick"] else "full-size",
               m["host"]["cpu"], m["host"]["cores"]), "",
           "%d targets, %d cases: %d passed, %d failed, %d skipped; %s transactions, %s "
           "hardware A/D events, %s lost updates, %s spurious faults." % (
               len(targets), tt["cases"], tt["passed"], tt["failed"], tt["skipped"],
               human(tt["transactions"]), human(tt["hw_events"]), lost_text(tt),
               human(tt["spurious_faults"])), "",
           "| target | status | cases | transactions | hw events | lost updates | "
           "spurious faults | " + ("traps | " if traps else "") + "time | "
           + " | ".join(c or NO_STRATEGY for c in cols) + " |",
           "|---|---|--:|--:|--:|--:|--:|" + ("--:|" if traps else "") + "--:|"
           + "---|" * len(cols)]
    for t in targets:
        s = t["totals"]
        cells = []
        for c in cols:
            state, short, long_ = strategy_cell(t, c)
            cells.append({"pass": "✅ " + long_, "fail": "❌ " + md_escape(long_),
                          "none": "–"}[state])
        out.append("| [%s](%s.md) | %s | %d/%d | %s | %s | %s | %s | %s%s | %s |" % (
            t["name"], t["name"], "✅ pass" if t["status"] == "pass" else "❌ **FAIL**",
            s["passed"], s["cases"], human(s["transactions"]), human(s["hw_events"]),
            lost_text(s), human(s["spurious_faults"]),
            human(s["traps"]) + " | " if traps else "", duration(t["seconds"]),
            " | ".join(cells)))
    fails = [(t, c) for t in targets for c in failing_cases(t["cases"])]
    if fails:
        out += ["", "## Failed cases", ""]
        out += ["- **%s** `%s`: %s" % (t["name"], c["id"], md_escape(c["message"] or "failed"))
                for t, c in fails]
    warn = [(t["name"], w) for t in targets for w in t["warnings"]]
    if warn:
        out += ["", "## Warnings", ""] + ["- %s: %s" % (n, md_escape(w)) for n, w in warn]
    out += ["", "Per target: " + ", ".join("[%s](%s.md)" % (t["name"], t["name"])
                                           for t in targets) + ". Schema: docs/report.md."]
    return "\n".join(out) + "\n"


CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555;margin:0 0 14px}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;color:#fff;
 font-size:14px;vertical-align:middle;margin-left:8px}
.badge.pass{background:#1a7f37}.badge.fail{background:#c62828}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.pass{background:#dcf5e3}td.fail{background:#ffd7d5}td.none{background:#f6f8fa;color:#999}
td.name{white-space:nowrap}td.name small{color:#555;display:block}
td.cell{white-space:nowrap}td.cell small{display:block;color:#555;font-size:12px}
th.strat{text-align:center}
tr.why td{background:#fff5f5;border-top:none;padding:2px 8px 6px 28px;color:#8a1111;
 font-size:13px}
tr.why ul{margin:0;padding-left:16px}tr.why code{color:#5c0a0a;font-weight:600}
.caught{color:#666;font-size:12px;display:block}
.ok{color:#1a7f37;font-weight:600}.bad{color:#b42318;font-weight:700}
.warn{background:#fff4d6;border:1px solid #e7c25b;padding:4px 8px;margin:4px 0;border-radius:4px;
 font-size:13px}.warn ul{margin:2px 0;padding-left:18px}
table.matrix{font-size:13px}table.matrix th,table.matrix td{padding:3px 6px}
details{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:4px 10px}
details.fail{border-color:#e5534b}
summary{cursor:pointer;font-weight:600;padding:4px 0}
summary .sum{font-weight:400;color:#444}
tr.case.fail td{background:#ffecec}
td.cell.fail b{color:#b42318}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:12px;max-height:320px}
.legend{color:#555;font-size:12px}
"""


def h(s):
    return html.escape("" if s is None else str(s))


def html_matrix(m):
    targets = m["targets"]
    cols = strategy_columns(targets)
    tt = m["totals"]
    g = m["git"]
    o = ["<!DOCTYPE html>", "<!-- SPDX-License-Identifier: MIT -->",
         "<!-- Generated by ./matrix report (tools/report.py); do not edit. -->",
         "<html lang=\"en\"><head><meta charset=\"utf-8\">",
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
         "<title>ptxn conformance matrix: %s</title>" % h(m["status"]),
         "<style>%s</style></head><body>" % CSS,
         "<h1>ptxn conformance matrix<span class=\"badge %s\">%s</span></h1>" % (
             m["status"], "PASS" if m["status"] == "pass" else "FAIL"),
         "<p class=\"meta\">%s run, generated %s by <code>%s</code>; ptxn %s%s; host %s, "
         "%d cores.</p>" % (
             "Quick (CI-sized)" if m["quick"] else "Full-size", h(m["generated"]),
             h(m["command"]), h(m["ptxn_version"]),
             " (%s%s)" % (h(g["commit"][:12]), ", modified tree" if g["dirty"] else "")
             if g["commit"] else "", h(m["host"]["cpu"]), m["host"]["cores"]),
         "<p>%d targets, <b>%d cases</b>: <span class=\"ok\">%d passed</span>, "
         "<span class=\"%s\">%d failed</span>, %d skipped &middot; %s transactions &middot; "
         "%s hardware A/D events &middot; %s lost updates &middot; %s spurious faults</p>" % (
             len(targets), tt["cases"], tt["passed"], "bad" if tt["failed"] else "ok",
             tt["failed"], tt["skipped"], h(human(tt["transactions"])),
             h(human(tt["hw_events"])), h(human(tt["lost_updates"])),
             h(human(tt["spurious_faults"])))]

    o.append("<h2>Targets &times; strategies</h2>")
    traps = any_traps(targets)
    ncols = 8 + traps + len(cols)
    o.append("<table class=\"matrix\"><tr><th>target</th><th>status</th><th>cases</th>"
             "<th>transactions</th><th>hw A/D events</th><th>lost updates</th>"
             "<th>spurious faults</th>" + ("<th>traps</th>" if traps else "") + "<th>time</th>"
             + "".join("<th class=\"strat\">%s</th>" % h(c or NO_STRATEGY) for c in cols)
             + "</tr>")
    for t in targets:
        s = t["totals"]
        row = ["<tr class=\"target %s\">" % t["status"],
               "<td class=\"name %s\"><a href=\"#t-%s\">%s</a><small>%s, %s</small></td>"
               % (t["status"], h(t["name"]), h(t["name"]), h(t["arch"]), h(t["cpu"])),
               "<td class=\"cell %s\"><b>%s</b></td>" % (
                   t["status"], "&#10003; pass" if t["status"] == "pass" else "&#10007; FAIL"),
               "<td class=\"n\">%d/%d</td>" % (s["passed"], s["cases"]),
               "<td class=\"n\" title=\"%d\">%s</td>" % (s["transactions"],
                                                         human(s["transactions"])),
               "<td class=\"n\" title=\"%d\">%s</td>" % (s["hw_events"], human(s["hw_events"])),
               "<td class=\"n %s\">%s%s</td>" % (
                   "fail" if s["lost_updates"] else "", human(s["lost_updates"]),
                   "<span class=\"caught\">+%s caught</span>" % human(
                       s["expected_lost_updates"]) if s["expected_lost_updates"] else ""),
               "<td class=\"n\">%s</td>" % human(s["spurious_faults"]),
               "<td class=\"n\">%s</td>" % human(s["traps"]) if traps else "",
               "<td class=\"n\">%s</td>" % duration(t["seconds"])]
        for c in cols:
            state, short, long_ = strategy_cell(t, c)
            st = column_stats(t, c)[0]
            if state == "none":
                row.append("<td class=\"cell none\">&ndash;</td>")
                continue
            sub = "%s tx" % human(st["transactions"]) if st["transactions"] else "no metrics"
            if state == "fail":
                sub = "%d failed" % st["failed"]
            row.append("<td class=\"cell %s\" title=\"%s\"><b>%s %d/%d</b>"
                       "<small>%s</small></td>" % (
                           state, h(long_), "&#10003;" if state == "pass" else "&#10007;",
                           st["passed"], st["cases"], sub))
        row.append("</tr>")
        o.append("".join(row))
        fails = failing_cases(t["cases"])
        if fails or t["status"] == "fail":
            items = ["<li><code>%s</code> %s</li>" % (h(c["id"]), h(c["message"] or "failed"))
                     for c in fails[:3]]
            if len(fails) > 3:
                items.append("<li>and %d more failed case%s (<a href=\"#t-%s\">details</a>)"
                             "</li>" % (len(fails) - 3, "" if len(fails) == 4 else "s",
                                        h(t["name"])))
            if not fails:
                items.append("<li>%s</li>" % h(t["message"]))
            o.append("<tr class=\"why\"><td colspan=\"%d\"><ul>%s</ul></td></tr>"
                     % (ncols, "".join(items)))
    o.append("</table>")
    o.append("<p class=\"legend\">Strategy cells: cases passed/total, and the transactions "
             "they ran (\"no metrics\": its cases logged none). Under a red target, its "
             "failing cases and their first failure message. Lost updates: in cases that did "
             "not pass; \"caught\": in passing negative controls, which exist to lose them. "
             "Hover a number for its exact value; per-case details below.</p>")

    warn = [(t["name"], w) for t in targets for w in t["warnings"]]
    if warn:
        o.append("<div class=\"warn\"><b>Warnings</b><ul>%s</ul></div>" % "".join(
            "<li><b>%s</b>: %s</li>" % (h(n), h(w)) for n, w in warn))

    o.append("<h2>Per target</h2>")
    for t in targets:
        s = t["totals"]
        o.append("<details id=\"t-%s\" class=\"%s\"%s><summary>%s %s <span class=\"sum\">"
                 "&mdash; %d/%d cases, %s transactions, %s hw events, %s lost, %s spurious "
                 "faults, %s</span></summary>" % (
                     h(t["name"]), t["status"], " open" if t["status"] == "fail" else "",
                     "<span class=\"bad\">&#10007;</span>" if t["status"] == "fail" else
                     "<span class=\"ok\">&#10003;</span>", h(t["name"]), s["passed"], s["cases"],
                     human(s["transactions"]), human(s["hw_events"]), lost_text(s),
                     human(s["spurious_faults"]), duration(t["seconds"])))
        o.append("<p class=\"meta\">%s &middot; cpu %s &middot; %s &middot; %s &middot; "
                 "PTXN_TEST_SCALE %g%s</p>" % (
                     h(t["arch"]), h(t["cpu"]), h(t["compiler"]),
                     h(t["qemu"] or "runs on the host"), t["scale"],
                     " &middot; failed at: %s" % h(t["failed_step"]) if t["failed_step"] else ""))
        if t["message"]:
            o.append("<p class=\"bad\">%s</p>" % h(t["message"]))
        o.append("<table><tr><th>case</th><th>strategy</th><th>format</th><th>status</th>"
                 "<th>transactions</th><th>hw events</th><th>lost</th><th>spurious</th>"
                 "<th>traps</th><th>seconds</th><th>message</th></tr>")
        for c in t["cases"]:
            met = c["metrics"]
            o.append("<tr class=\"case %s\"><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td>"
                     "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                     "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                     "<td>%s</td></tr>" % (
                         c["status"], h(c["id"]), h(c["strategy"] or ""), h(c["format"] or ""),
                         c["status"], c["status"],
                         c["transactions"] if met else "", c["hw_events"] if met else "",
                         c["lost_updates"] if met else "", c["spurious_faults"] if met else "",
                         "" if c["traps"] is None else c["traps"],
                         "" if c["seconds"] is None else "%.3f" % c["seconds"],
                         h(c["message"] or "")))
        o.append("</table>")
        for c in t["cases"]:
            if c["status"] == "fail" and c["detail"]:
                o.append("<p><b>%s</b> output:</p><pre>%s</pre>" % (h(c["id"]), h(c["detail"])))
        o.append("</details>")
    o.append("<p class=\"legend\">Schema and how to read this page: docs/report.md in the "
             "ptxn source. Per-target files: %s.</p>" % ", ".join(
                 "%s.json/.md" % h(t["name"]) for t in targets))
    o.append("</body></html>")
    return "\n".join(o) + "\n"


# ------------------------------------------------------------------------------ writing


def dumps(obj, indent=0):
    """JSON with one case (or any object deeper than a target's fields) per line: readable
    and diffable, without a line per number."""
    pad = " " * indent
    if isinstance(obj, dict) and indent <= 4 and obj and "id" not in obj:
        items = ["%s %s: %s" % (pad, json.dumps(k), dumps(v, indent + 1)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and indent <= 4:
        items = ["%s %s" % (pad, dumps(v, indent + 1)) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, separators=(", ", ": "))


def write_json(path, obj):
    check(obj)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(dumps(obj) + "\n")
    os.replace(tmp, path)


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_target(outdir, target, info):
    """reports/<target>.json (the matrix schema with one target) and .md."""
    single = matrix_report([target], info)
    write_json(os.path.join(outdir, target["name"] + ".json"), single)
    write_text(os.path.join(outdir, target["name"] + ".md"), md_target(target, single))


def write_matrix(outdir, m):
    write_json(os.path.join(outdir, "matrix.json"), m)
    write_text(os.path.join(outdir, "matrix.md"), md_matrix(m))
    write_text(os.path.join(outdir, "matrix.html"), html_matrix(m))


# ------------------------------------------------------------------- facts about the run


def git_state():
    def git(*a):
        r = subprocess.run(["git", "-C", ROOT] + list(a), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    commit = git("rev-parse", "HEAD")
    dirty = None
    if commit:
        st = git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(st) if st is not None else None
    return {"commit": commit, "dirty": dirty}


def ptxn_version():
    try:
        with open(os.path.join(ROOT, "meson.build")) as f:
            m = re.search(r"\bversion\s*:\s*'([^']+)'", f.read())
        return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def host_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host_info():
    return {"machine": platform.machine(), "cpu": host_cpu(), "cores": os.cpu_count() or 1,
            "os": "%s %s" % (platform.system(), platform.release())}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def introspect(bdir, what):
    r = subprocess.run(["meson", "introspect", bdir, "--" + what], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def machine_file_text(t):
    try:
        with open(os.path.join(ROOT, t.file)) as f:
            return f.read()
    except OSError:
        return ""


def emulator(t):
    """'qemu-aarch64-static 7.2.22 (Debian ...) -cpu neoverse-n1', or None on the host."""
    if not getattr(t, "under_qemu", False) and not t.runs_on.startswith("qemu"):
        return None
    m = re.search(r"^\s*exe_wrapper\s*=\s*\[\s*'([^']+)'", machine_file_text(t), re.M)
    prog = m.group(1) if m else t.runs_on.split()[0]
    if not shutil.which(prog) and shutil.which(prog + "-static"):
        prog += "-static"
    version = "version unknown"
    try:
        r = subprocess.run([prog, "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=20)
        v = re.search(r"version\s+(\S+(?:\s+\([^)]*\))?)", r.stdout)
        if v:
            version = v.group(1)
    except (OSError, subprocess.SubprocessError):
        version = "not found"
    cpu = getattr(t, "cpu", "-")
    return "%s %s%s" % (prog, version, " -cpu " + cpu if cpu not in ("-", "?", "") else "")


def configure_facts(bdir):
    """Compiler and host machine as Meson's configure log states them (Meson 1.0's
    introspection has neither): {"compiler": "gcc 12.2.0 (aarch64-linux-gnu-gcc)",
    "cpu_family": "aarch64"}, with keys missing when the log does not say."""
    out = {}
    try:
        with open(os.path.join(bdir, "meson-logs", "meson-log.txt"), errors="replace") as f:
            text = f.read()
    except OSError:
        return out
    cc = re.findall(r"^C compiler for the host machine: (.+?) \((\S+) ([^\s\"]+)", text, re.M)
    if cc:
        exe, cid, version = cc[-1]
        out["compiler"] = "%s %s" % (cid, version) + ("" if exe == cid else " (%s)" % exe)
    fam = re.findall(r"^Host machine cpu family: (\S+)", text, re.M)
    if fam:
        out["cpu_family"] = fam[-1]
    return out


def target_meta(t, bdir, scale, seconds, quick):
    text = machine_file_text(t)
    facts = configure_facts(bdir)
    fam = re.search(r"^\s*cpu_family\s*=\s*'([^']+)'", text, re.M)
    end = re.search(r"^\s*endian\s*=\s*'([^']+)'", text, re.M)
    # without a Meson log or machine file (e.g. the qemu-system rows), the emulator's name
    emu = re.match(r"^qemu-(?:system-)?(\w+)", t.runs_on)
    emu_arch = {"i386": "x86", "ppc64le": "ppc64", "arm": "arm"}.get(
        emu.group(1), emu.group(1)) if emu else None
    arch = facts.get("cpu_family") or (fam.group(1) if fam else emu_arch or platform.machine())
    big = end.group(1) == "big" if end else (
        emu.group(1) == "ppc64" if emu else sys.byteorder == "big")
    qemu = emulator(t)
    cpu = getattr(t, "cpu", "-") if qemu else host_cpu()
    return {"name": t.name, "arch": arch + (" (big-endian)" if big else ""), "cpu": cpu,
            "compiler": facts.get("compiler", t.toolchain), "qemu": qemu,
            "runs_on": t.runs_on, "toolchain": t.toolchain, "scale": scale,
            "seconds": seconds, "quick": quick}


# ---------------------------------------------------------------------------- progress


class Progress:
    """'[k/n] target: step  m:ss' — rewritten in place every second on a terminal; on a
    pipe one line per step, and one a minute while a step runs."""

    def __init__(self, k, n, name, stream=None):
        self.k, self.n, self.name = k, n, name
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()
        self.step = "starting"
        self.stop = threading.Event()
        self.last_beat = self.t0
        self.held = False
        self.thread = threading.Thread(target=self._tick, daemon=True)
        self.thread.start()

    def line(self):
        return "[%d/%d] %s: %s  %s elapsed" % (self.k, self.n, self.name, self.step,
                                               duration(time.monotonic() - self.t0))

    def hold(self):
        """A runner that prints its own lines comes next: clear ours and stop redrawing
        it in place until the next step."""
        self.held = True
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _tick(self):
        while not self.stop.wait(1.0):
            if self.held:
                continue
            if self.tty:
                self.stream.write("\r\033[K" + self.line())
                self.stream.flush()
            elif time.monotonic() - self.last_beat >= 60:
                self.last_beat = time.monotonic()
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    def set(self, step):
        self.step = step
        self.held = False
        if self.tty:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def done(self, text):
        self.stop.set()
        self.thread.join()
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()


# ----------------------------------------------------------------------------- running


def ninja_sections(text):
    """FAILED: sections of a ninja log -> [(outputs, text)]."""
    sections, cur = [], None
    for line in ANSI.sub("", text).splitlines():
        if line.startswith("FAILED: "):
            cur = (line[len("FAILED: "):].split(), [line])
            sections.append(cur)
        elif cur is not None and (re.match(r"^\[\d+/\d+\]", line) or line.startswith("ninja:")):
            cur = None
        elif cur is not None:
            cur[1].append(line)
    return [(outs, "\n".join(lines)) for outs, lines in sections]


def read_from(path, offset):
    try:
        with open(path, errors="replace") as f:
            f.seek(offset)
            return f.read()
    except OSError:
        return ""


def run_meson_target(mx, t, args, scale, progress, caselog):
    """Setup, build (keeping going past what does not compile), test what built.
    Returns {"build_failures": [(test or None, message, detail)],
             "target_failure": (step, message, detail) or None, "tested": bool}."""
    res = {"build_failures": [], "target_failure": None, "tested": False}
    bdir = os.path.join(mx.BUILD, t.name)
    log = os.path.join(bdir, "matrix.log")
    logbase = "testlog-" + t.name
    os.makedirs(bdir, exist_ok=True)
    with open(log, "w"):
        pass
    if not os.path.exists(os.path.join(bdir, "meson-private", "coredata.dat")):
        progress.set("meson setup")
        shutil.rmtree(bdir)
        os.makedirs(bdir)
        opt = "--native-file" if t.kind == "native" else "--cross-file"
        if mx.step(["meson", "setup", opt, t.file, bdir], log) != 0:
            text = read_from(log, 0)
            res["target_failure"] = ("setup", "meson setup failed: " + first_error_line(text),
                                     tail(text))
            return res
    progress.set("build")
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    off = os.path.getsize(log)
    runnable = None  # None: everything built, run every test
    if mx.step(["meson", "compile", "-C", bdir, "--ninja-args=-k0"] + jobs, log) != 0:
        text = read_from(log, off)
        sections = ninja_sections(text)
        tests = introspect(bdir, "tests")
        whole = [s for outs, s in sections if "build.ninja" in outs]
        if tests is None or not sections or whole:
            # regeneration (meson.build) failed, or something ninja cannot attribute
            detail = "\n\n".join(whole) or tail(text)
            res["target_failure"] = ("build", "build failed: " + first_error_line(detail),
                                     tail(detail, 40))
            return res
        claimed, runnable = set(), []
        for test in tests:
            exe = (test.get("cmd") or [None])[0]
            if not isinstance(exe, str) or not exe.startswith(os.path.abspath(bdir) + os.sep):
                runnable.append(test["name"])  # a script or a program of the source tree
                continue
            rel = os.path.relpath(exe, bdir)
            r = subprocess.run(["ninja", "-C", bdir, "-n", "-v", rel], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0 or "no work to do" in r.stdout:
                runnable.append(test["name"])  # up to date (or not something ninja builds)
                continue
            # what still has to be built for this executable: its own objects, and any
            # library it links that failed
            mine = [(i, s) for i, (outs, s) in enumerate(sections)
                    if any(o == rel or o.startswith(rel + ".p/") or o in r.stdout
                           for o in outs)]
            claimed.update(i for i, _ in mine)
            detail = "\n\n".join(s for _, s in mine) or tail(text)
            res["build_failures"].append((test["name"], "does not build: "
                                          + first_error_line(detail), tail(detail, 40)))
        rest = [s for i, (outs, s) in enumerate(sections) if i not in claimed]
        if rest:
            detail = "\n\n".join(rest)
            res["build_failures"].append((None, "build failed outside the tests: "
                                          + first_error_line(detail), tail(detail, 40)))
        if not runnable:
            res["target_failure"] = ("build", "no test built: "
                                     + res["build_failures"][0][1], None)
            return res
    progress.set("test")
    for ext in (".json", ".junit.xml", ".txt"):
        try:
            os.remove(os.path.join(bdir, "meson-logs", logbase + ext))
        except OSError:
            pass
    with open(caselog, "w"):
        pass
    env = dict(os.environ, PTXN_TEST_SCALE=repr(scale), PTXN_CASE_LOG=caselog)
    nproc = ["--num-processes", str(args.jobs)] if args.jobs else []
    off = os.path.getsize(log)
    rc = mx.step(["meson", "test", "-C", bdir, "--no-rebuild", "--logbase", logbase,
                  "--print-errorlogs"] + nproc + (runnable or []), log, env=env)
    if os.path.exists(os.path.join(bdir, "meson-logs", logbase + ".json")):
        res["tested"] = True
    else:
        text = read_from(log, off)
        res["target_failure"] = ("test", "meson test failed (exit %d): %s"
                                 % (rc, first_error_line(text)), tail(text))
    return res


def collect(bdir, logbase, caselog, run):
    """Everything a run left in bdir -> (cases, warnings)."""
    execs, junit, warnings = [], [], []
    target_failure = run["target_failure"]
    jlog = os.path.join(bdir, "meson-logs", logbase + ".json")
    xlog = os.path.join(bdir, "meson-logs", logbase + ".junit.xml")
    if run["tested"] and os.path.exists(jlog):
        try:
            execs = read_meson_json_log(jlog)
            junit = read_junit(xlog) if os.path.exists(xlog) else []
        except (OSError, ValueError, ET.ParseError) as e:
            target_failure = target_failure or ("test", "cannot read Meson's logs: %s" % e, None)
    records, w = read_case_log(caselog) if run["tested"] else ([], [])
    warnings += w
    cases, w = build_cases(execs, junit, records, run["build_failures"], target_failure)
    return cases, warnings + w


def run_one(mx, t, args, scale, k, n):
    bdir = os.path.join(mx.BUILD, t.name)
    caselog = os.path.join(bdir, "case-log.jsonl")
    progress = Progress(k, n, t.name)
    t0 = time.monotonic()
    try:
        if t.kind in ("native", "cross"):
            run = run_meson_target(mx, t, args, scale, progress, caselog)
        else:
            run = run_other_target(mx, t, args, scale, progress, caselog)
        progress.set("report")
        cases, warnings = collect(bdir, "testlog-" + t.name, caselog, run)
    except BaseException:
        progress.done("[%d/%d] %s: interrupted" % (k, n, t.name))
        raise
    meta = target_meta(t, bdir, scale, time.monotonic() - t0, args.quick)
    rep = target_report(meta, cases, warnings,
                        run["target_failure"][0] if run["target_failure"] else None)
    tt = rep["totals"]
    progress.done("[%d/%d] %-16s %s  %d/%d cases, %s transactions  %s%s" % (
        k, n, t.name, "pass" if rep["status"] == "pass" else "FAIL", tt["passed"], tt["cases"],
        human(tt["transactions"]), duration(rep["seconds"]),
        "\n        " + rep["message"][:200] if rep["message"] else ""))
    return rep


def run_other_target(mx, t, args, scale, progress, caselog):
    """A kind of target this file does not know (added by another issue): run it the way
    ./matrix test does, with PTXN_CASE_LOG set, then read whatever Meson logs it left."""
    progress.set("run (./matrix test's way)")
    progress.hold()
    bdir = os.path.join(mx.BUILD, t.name)
    os.makedirs(bdir, exist_ok=True)
    with open(caselog, "w"):
        pass
    old = os.environ.get("PTXN_CASE_LOG")
    os.environ["PTXN_CASE_LOG"] = caselog
    try:
        r = mx.run_target(t, args, scale)
    finally:
        if old is None:
            os.environ.pop("PTXN_CASE_LOG", None)
        else:
            os.environ["PTXN_CASE_LOG"] = old
    run = {"build_failures": [], "target_failure": None, "tested": True}
    if r.status in ("setup failed", "build failed"):
        _, out = r.failures[0] if r.failures else (r.status, "")
        run["target_failure"] = (r.status.split()[0], "%s: %s" % (r.status, first_error_line(out)),
                                 out or None)
        run["tested"] = False
    return run


def run_report(mx, args, argv):
    """`./matrix report`: mx is the ./matrix module, args its parsed options."""
    targets = mx.select_targets(args.target)
    if not args.no_setup and mx.missing_items():
        mx.cmd_setup()
    outdir = os.path.abspath(args.out or os.path.join(ROOT, "reports"))
    os.makedirs(outdir, exist_ok=True)
    load_schema()  # fail early if the schema is unreadable
    info = {"generated": now_iso(), "ptxn_version": ptxn_version(), "git": git_state(),
            "host": host_info(), "command": " ".join(["./matrix"] + list(argv)),
            "quick": bool(args.quick)}
    t0 = time.monotonic()
    reports = []
    for k, t in enumerate(targets, 1):
        # as ./matrix test sizes them; its qemu-system rows (kind "system") do not take
        # QEMU_SCALE
        scale = args.scale * (mx.QEMU_SCALE if t.under_qemu and t.kind in ("native", "cross")
                              else 1.0)
        if args.quick:
            scale *= mx.QUICK_SCALE
        rep = run_one(mx, t, args, scale, k, len(targets))
        info["generated"] = now_iso()
        write_target(outdir, rep, info)
        reports.append(rep)
    info["generated"] = now_iso()
    m = matrix_report(reports, info)
    write_matrix(outdir, m)
    tt = m["totals"]
    rel = os.path.relpath(outdir, os.getcwd())
    mx.say("\n" + terminal_matrix(m))
    mx.say("\n%d target%s in %s; reports: %s/matrix.html, matrix.md, matrix.json and "
           "<target>.json/.md" % (len(reports), "" if len(reports) == 1 else "s",
                                  duration(time.monotonic() - t0), rel))
    mx.say("%d passed, %d failed" % (tt["passed"], tt["failed"]))
    return 0 if m["status"] == "pass" else 1


def rerender(path_in, outdir):
    """Re-render the .md and .html files from an existing matrix.json (no test run)."""
    with open(path_in) as f:
        m = json.load(f)
    check(m)
    for t in m["targets"]:
        single = dict(m, targets=[t], totals=totals(t["cases"]), status=t["status"])
        write_text(os.path.join(outdir, t["name"] + ".md"), md_target(t, single))
    write_matrix(outdir, m)


if __name__ == "__main__":
    # python3 tools/report.py validate FILE...   check reports against the schema
    # python3 tools/report.py render DIR         rewrite DIR's .md/.html from DIR/matrix.json
    if len(sys.argv) >= 3 and sys.argv[1] == "validate":
        bad = 0
        for p in sys.argv[2:]:
            with open(p) as f:
                errs = validate(json.load(f), load_schema())
            print("%s: %s" % (p, "ok" if not errs else "\n  ".join(["INVALID"] + errs)))
            bad += bool(errs)
        sys.exit(1 if bad else 0)
    if len(sys.argv) == 3 and sys.argv[1] == "render":
        rerender(os.path.join(sys.argv[2], "matrix.json"), sys.argv[2])
        sys.exit(0)
    print(__doc__.strip() + "\n\nusage: tools/report.py validate FILE... | render DIR",
          file=sys.stderr)
    sys.exit(2)
