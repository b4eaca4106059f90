# SPDX-License-Identifier: MIT
"""The Python tools behind ./matrix (README.md): one module per concern, each importing
only the ones it needs (no cycles).

  common     paths (ROOT, BUILD, REPORTS), say(), tail(), log_tail(), step()
  targets    the targets and their machine files, the i686-host runner, select_targets()
  setup      ./matrix setup: what is missing, installing it
  build      configure, build and test one target as ./matrix test does; JUnit publishing
  report/    ./matrix report (docs/report.md): common, logs, cases, schema, render, run
  sanitize   the sanitizer rows (./matrix test --sanitize)
  soak       ./matrix soak
  bench      ./matrix bench (docs/bench.md)
  fuzz       ./matrix fuzz (fuzz/README.md)
  tests/     their unittest modules, run by meson test (tools/meson.build)

./matrix puts tools/ on the import path; by hand, run from tools/ or with PYTHONPATH=tools,
e.g. `PYTHONPATH=tools python3 -m ptxn_tools.report validate reports/matrix.json`.
"""
