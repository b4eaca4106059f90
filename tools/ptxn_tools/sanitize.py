# SPDX-License-Identifier: MIT
"""The sanitizer rows of ./matrix: `./matrix test --sanitize [-t NAME]` (docs/reliability.md).

Two extra native build variants, each with its own machine file and build directory:

  x86_64-asan  gcc 12, -fsanitize=address,undefined -fno-sanitize-recover=all, the native
               asm backend (what ships): cross-files/x86_64-asan.ini, build/x86_64-asan
  x86_64-tsan  clang 14, -fsanitize=thread with the whole program built PTXN_FORCE_GENERIC
               so that every slot access is an __atomic builtin TSan sees (asm is invisible
               to it): cross-files/x86_64-tsan.ini, build/x86_64-tsan

They are not in TARGETS (targets.py): a plain `./matrix test` or `./matrix report` does not
build them. Their meson test runs everything a native row runs except the host-tool suites
(SKIP_SUITES: report, consumers, model, bench, matrix), which compile nothing with the sanitizers
and are run by the plain x86_64-gcc row, plus suite 'sanitize' (tests/sanitize/): broken
cases the sanitizer must report, so a silent or blind sanitizer fails the row.
"""

import os

from .targets import Target

# Suites whose tests run host tools (python, meson, spin, valgrind) rather than sanitized
# binaries.
SKIP_SUITES = ["report", "consumers", "model", "bench", "matrix"]

# Sanitizer run-time options, unless the caller's environment already sets them.
#   TSan: stop at the first report (a Check test case then fails with "Early exit");
#         keep both stacks of a lock-order report.
#   ASan: leaks and use-after-return too; UBSan: stack traces (-fno-sanitize-recover=all
#         already makes every finding fatal).
OPTIONS = {
    "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1",
    "ASAN_OPTIONS": "detect_leaks=1:detect_stack_use_after_return=1:"
                    "check_initialization_order=1:strict_init_order=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def targets():
    """The sanitizer rows as Target objects (kind 'native', own machine file)."""
    rows = [
        Target("x86_64-asan", "native", "gcc 12 -fsanitize=address,undefined", "host"),
        Target("x86_64-tsan", "native", "clang 14 -fsanitize=thread, PTXN_FORCE_GENERIC",
               "host"),
    ]
    for t in rows:
        t.test_args = [a for s in SKIP_SUITES for a in ("--no-suite", s)]
    return rows


def select(names):
    """The sanitizer rows named in `names` (-t, repeatable or comma-separated); all of them
    when none is named."""
    rows = targets()
    by_name = {t.name: t for t in rows}
    wanted = [n.strip() for chunk in names for n in chunk.split(",") if n.strip()]
    for n in wanted:
        if n not in by_name:
            raise SystemExit("matrix: --sanitize: unknown sanitizer row %r; known: %s"
                             % (n, ", ".join(by_name)))
    return [t for t in rows if not wanted or t.name in wanted]


def prepare_env():
    for k, v in OPTIONS.items():
        os.environ.setdefault(k, v)
