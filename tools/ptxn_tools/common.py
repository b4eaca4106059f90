# SPDX-License-Identifier: MIT
"""What every command of ./matrix shares: the paths, printing a line, the tail of a log,
running one logged build step, and reading the Meson machine files of cross-files/."""

import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
REPORTS = os.path.join(ROOT, "reports")

# The rows that share a compiler and flags (ppc64le-power8/9/10, the two i686 rows) compile
# through ccache (their cross files), so each object is built once per run. The cache is
# this tree's own unless the caller chose one: a fresh clone starts empty.
os.environ.setdefault("CCACHE_DIR", os.path.join(BUILD, "ccache"))

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def say(msg):
    print(msg, flush=True)


def tail(text, n=30):
    lines = ANSI.sub("", text or "").rstrip("\n").splitlines()
    return "\n".join(lines[-n:])


def log_tail(path, n=25):
    try:
        with open(path, errors="replace") as f:
            return tail(f.read(), n)
    except OSError:
        return "(no log at %s)" % path


def step(cmd, log, env=None):
    """Run one build step with its output appended to `log`; returns the exit code."""
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, env=env).returncode


def read_machine_files(paths):
    """The sections of Meson machine files layered in order, as Meson reads repeated
    --cross-file options (a later file's key overrides an earlier one's): {section: {key:
    value}}. Values are Python-like literals and may name a [constants] entry defined so
    far, in this file or an earlier one. Paths are relative to ROOT. Raises OSError for a
    missing file."""
    sections, consts, section = {}, {}, None
    for path in paths:
        with open(os.path.join(ROOT, path)) as f:
            lines = f.read().splitlines()
        for line in lines:
            line = line.split("#", 1)[0].strip()
            m = re.match(r"^\[(.*)\]$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^([\w-]+)\s*=\s*(.+)$", line)
            if not m or section is None:
                continue
            try:
                value = eval(m.group(2), {"__builtins__": {}, "true": True, "false": False},
                             dict(consts))  # literals and constant names only
            except Exception:
                continue
            if section == "constants":
                consts[m.group(1)] = value
            sections.setdefault(section, {})[m.group(1)] = value
    return sections
