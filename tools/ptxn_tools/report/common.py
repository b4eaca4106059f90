# SPDX-License-Identifier: MIT
"""Shared by every part of the report: the schema's path and version, the strategy order, the
thresholds, the patterns of the logs read, ReportError, and small text helpers.

Part of the conformance report (ptxn_tools.report, docs/report.md).
"""

import os
import re

from ..common import ANSI, ROOT

SCHEMA_PATH = os.path.join(ROOT, "docs", "report.schema.json")
SCHEMA_VERSION = 2

# Column order of the known strategies; others follow alphabetically, then the cases
# without a strategy. Only an order: a strategy nobody logs gets no column.
STRATEGY_ORDER = ["clear", "merge", "auto", "unsafe-rmw", "plain-rmw"]
NO_STRATEGY = "no strategy"

# Issue #7: a default (not --quick) run means something only with at least this many
# transactions per strategy on a target; below, the report carries a warning.
MIN_TRANSACTIONS = {"host": 10 ** 6, "qemu": 10 ** 5}
# The bare-metal rows are sized by what QEMU's MMU does: hardware A/D events per strategy.
MIN_SYSTEM_HW_EVENTS = 10 ** 5

CONSOLE_TAG = "PTXN-CASE "
RECORD_FIELDS = ("test", "name", "strategy", "format", "status", "transactions", "hw_events",
                 "lost_updates", "spurious_faults", "traps", "seconds", "message")
METRICS = ("transactions", "hw_events", "lost_updates", "spurious_faults")
# Check's TAP line after "ok N - ": file[:line]:tcase:test: message
CHECK_DESC = re.compile(r"^(?P<file>[^:]*):(?:\d+:)?(?P<tcase>[^:]*):(?P<test>[^:\s]+): ?"
                        r"(?P<msg>.*)$", re.S)
TAP_LINE = re.compile(r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*)$")


class ReportError(Exception):
    """A report that does not match the schema: a bug in this file, not in a test."""


# ------------------------------------------------------------------------------ helpers


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
