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

The code lives in modules beside this one, in dependency order (each imports only from
the ones before it):
  report_common.py   paths, constants, log patterns, ReportError, text helpers
  report_logs.py     reading the case log, console lines, Meson's JSON and JUnit logs, TAP
  report_cases.py    building cases; totals, strategies, columns, target and matrix reports
  report_schema.py   validation against docs/report.schema.json (python3-jsonschema)
  report_render.py   terminal, Markdown and HTML rendering; writing the files
  report_run.py      facts about the run, progress, running targets, run_report(), rerender()
This module re-exports every name they define, so `import report` (./matrix,
tools/test_report.py, other tools) sees one namespace, as before the split.
"""

import json
import os
import sys

from report_common import (
    HERE, ROOT, SCHEMA_PATH, SCHEMA_VERSION, STRATEGY_ORDER, NO_STRATEGY, MIN_TRANSACTIONS,
    MIN_SYSTEM_HW_EVENTS, CONSOLE_TAG, RECORD_FIELDS, METRICS, ANSI, CHECK_DESC, TAP_LINE,
    ReportError, tail, short_test_name, first_error_line, first_failure_line, human, duration)
from report_logs import (
    parse_record, read_case_log, parse_console, read_meson_json_log, read_junit,
    tap_descriptions, tap_context, split_subtest)
from report_cases import (
    new_case, apply_record, build_cases, totals, strategy_key, strategies, failing_cases,
    target_report, matrix_report, column_of, strategy_columns, column_stats)
from report_schema import (
    validate, load_schema, check)
from report_render import (
    strategy_cell, lost_text, any_traps, run_time_text, terminal_matrix, md_escape, md_target, md_matrix, CSS,
    h, html_matrix, dumps, write_json, write_text, write_target, write_matrix)
from report_run import (
    git_state, ptxn_version, host_cpu, host_info, now_iso, introspect, machine_file_text,
    emulator, configure_facts, target_meta, TIMES_FILE, last_times, save_time, eta_seconds,
    eta_text, LoadSampler, Board, Progress, start_order, ninja_sections, read_from,
    run_meson_target, collect, run_one, run_other_target, run_report, rerender)

# Everything the modules define (so `from report import *` and linters see it all).
__all__ = [
    "HERE", "ROOT", "SCHEMA_PATH", "SCHEMA_VERSION", "STRATEGY_ORDER", "NO_STRATEGY",
    "MIN_TRANSACTIONS", "MIN_SYSTEM_HW_EVENTS", "CONSOLE_TAG", "RECORD_FIELDS", "METRICS", "ANSI", "CHECK_DESC",
    "TAP_LINE", "ReportError", "tail", "short_test_name", "first_error_line",
    "first_failure_line", "human", "duration", "parse_record", "read_case_log",
    "parse_console", "read_meson_json_log", "read_junit", "tap_descriptions", "tap_context",
    "split_subtest", "new_case", "apply_record", "build_cases", "totals", "strategy_key",
    "strategies", "failing_cases", "target_report", "matrix_report", "column_of",
    "strategy_columns", "column_stats", "validate", "load_schema", "check",
    "strategy_cell", "lost_text", "any_traps", "run_time_text", "terminal_matrix", "md_escape", "md_target",
    "md_matrix", "CSS", "h", "html_matrix", "dumps", "write_json", "write_text",
    "write_target", "write_matrix", "git_state", "ptxn_version", "host_cpu", "host_info",
    "now_iso", "introspect", "machine_file_text", "emulator", "configure_facts", "target_meta",
    "TIMES_FILE", "last_times", "save_time", "eta_seconds", "eta_text", "LoadSampler", "Board", "Progress", "start_order", "ninja_sections", "read_from", "run_meson_target", "collect", "run_one",
    "run_other_target", "run_report", "rerender",
]


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
