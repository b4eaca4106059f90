# SPDX-License-Identifier: MIT
"""Building cases: one per Check test case, joined from the JUnit log, the case log and the
executables Meson ran; totals, strategies, and the per-target and matrix reports.

Part of the conformance report (ptxn_tools.report, docs/report.md).
"""

from ..common import tail
from .common import (
    METRICS, MIN_SYSTEM_HW_EVENTS, MIN_TRANSACTIONS, SCHEMA_VERSION, STRATEGY_ORDER, first_failure_line, human,
    short_test_name)
from .logs import parse_console, split_subtest, tap_context, tap_descriptions


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
         "spurious_faults": 0, "traps": None, "seconds": 0.0, "interleavings": 0}
    for c in cases:
        t["interleavings"] += c["extra"].get("interleavings", 0) or 0
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


def target_report(meta, cases, warnings, failed_step=None):
    """meta: name, arch, cpu, compiler, qemu, runs_on, toolchain, scale, seconds, quick,
    and optionally note (how the row ran otherwise than its table row says)."""
    t = {k: meta[k] for k in ("name", "arch", "cpu", "compiler", "qemu", "runs_on",
                              "toolchain", "scale", "seconds")}
    t["note"] = meta.get("note")
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
        # A bare-metal row (qemu-system) is sized in hardware A/D events (docs/baremetal.md).
        system = str(meta.get("runs_on") or "").startswith("qemu-system")
        what = "hw_events" if system else "transactions"
        floor = MIN_SYSTEM_HW_EVENTS if system else MIN_TRANSACTIONS["qemu" if meta["qemu"] else "host"]
        small = []
        for col in sorted({column_of(c["strategy"]) for c in cases} - {None},
                          key=strategy_key):
            tt = column_stats(t, col)[0]
            if tt["expected_lost_updates"] and not tt["failed"]:
                continue  # a negative control: it exists to lose updates, not to be big
            if 0 < tt[what] < floor:
                small.append("%s %s" % (col, human(tt[what])))
        if small:
            t["warnings"].append("fewer than %s %s per strategy for a full-size run here: %s"
                                 % (human(floor), "hardware A/D events" if system else
                                    "transactions", ", ".join(small)))
    return t


def matrix_report(targets, info):
    """info: generated, ptxn_version, git, host, command, quick."""
    all_cases = [c for t in targets for c in t["cases"]]
    m = {"$comment": "SPDX-License-Identifier: MIT. Generated by ./matrix report "
                     "(tools/ptxn_tools/report/); schema: docs/report.schema.json, docs/report.md.",
         "schema_version": SCHEMA_VERSION}
    m.update({k: info[k] for k in ("generated", "ptxn_version", "git", "host", "command",
                                   "quick")})
    for k in ("wall_seconds", "targets_at_once"):
        if k in info:
            m[k] = info[k]
    m["status"] = "pass" if targets and all(t["status"] == "pass" for t in targets) else "fail"
    m["totals"] = totals(all_cases)
    m["targets"] = targets
    return m
