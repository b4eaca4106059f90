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
ptxn_tools/tests/test_report.py; run_report() is the driver and takes the targets, setup
and build steps from the modules beside this package (targets, setup, build).

The code lives in the modules of this package, in dependency order (each imports only
from the ones before it); import a name from the module that defines it:
  common    constants, log patterns, ReportError, text helpers
  logs      reading the case log, console lines, Meson's JSON and JUnit logs, TAP
  cases     building cases; totals, strategies, columns, target and matrix reports
  schema    validation against docs/report.schema.json (python3-jsonschema)
  render    terminal, Markdown and HTML rendering; writing the files
  run       facts about the run, progress, running targets, run_report(), rerender()
  __main__  by hand, from the source root:
              PYTHONPATH=tools python3 -m ptxn_tools.report validate FILE...
              PYTHONPATH=tools python3 -m ptxn_tools.report render DIR
"""
