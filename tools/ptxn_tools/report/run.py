# SPDX-License-Identifier: MIT
"""The driver: facts about the run (git, host, target), progress lines, and running each
target's build and tests; run_report() is what `./matrix report` calls.

Part of the conformance report (ptxn_tools.report, docs/report.md).
"""

import concurrent.futures
import datetime
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

from .. import setup
from ..bench import machine_file
from ..build import meson_setup, publish_junit, run_target
from ..common import ANSI, BUILD, ROOT, say, step, tail
from ..targets import select_targets
from .common import duration, first_error_line, human
from .logs import read_case_log, read_junit, read_meson_json_log
from .cases import build_cases, matrix_report, target_report, totals
from .schema import check, load_schema
from .render import md_target, terminal_matrix, write_matrix, write_target, write_text


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
    """The target's machine files, in the order Meson layers them."""
    text = ""
    for path in getattr(t, "machine_files", [t.file]):
        try:
            with open(os.path.join(ROOT, path)) as f:
                text += f.read() + "\n"
        except OSError:
            pass
    return text


def emulator(t):
    """'qemu-aarch64-static 7.2.22 (Debian ...) -cpu neoverse-n1', or None on the host."""
    if not getattr(t, "under_qemu", False) and not t.runs_on.startswith("qemu"):
        return None
    m = re.findall(r"^\s*exe_wrapper\s*=\s*\[\s*'([^']+)'", machine_file_text(t), re.M)
    prog = m[-1] if m else t.runs_on.split()[0]
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
            "runs_on": t.runs_on, "note": getattr(t, "note", None), "toolchain": t.toolchain,
            "scale": scale, "seconds": seconds, "quick": quick}


# ---------------------------------------------------------------------------- progress


TIMES_FILE = "report-times.json"  # in build/: this machine's last per-target times


def last_times(build, quick):
    """{target: seconds} of the last ./matrix report of this size on this machine (a file
    in build/, never committed: another machine's times would mislead), or {}."""
    try:
        with open(os.path.join(build, TIMES_FILE)) as f:
            return json.load(f).get("quick" if quick else "full", {})
    except (OSError, ValueError, AttributeError):
        return {}


def save_time(build, quick, name, seconds):
    path = os.path.join(build, TIMES_FILE)
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    data.setdefault("quick" if quick else "full", {})[name] = round(seconds, 1)
    os.makedirs(build, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def eta_seconds(running, pending, workers):
    """Seconds until the last target is done, from this machine's last times: running is
    [(expected, elapsed)] of the targets under way, pending the expected times of those
    not started, in the order they will start; `workers` targets run at once, the next one
    starting as soon as one finishes. Unknown times (None) count as 0; returns
    (seconds, how many were unknown)."""
    free = [max(0.0, (e or 0.0) - el) for e, el in running]
    free += [0.0] * (workers - len(free))  # idle places
    unknown = sum(e is None for e, _ in running) + sum(e is None for e in pending)
    for e in pending:
        free.sort()
        free[0] += e or 0.0
    return (max(free) if free else 0.0), unknown


def eta_text(running, pending, workers=1):
    """', ~m:ss left' (see eta_seconds), with how many targets were never timed here; ''
    when nothing is known."""
    if all(e is None for e, _ in running) and all(e is None for e in pending):
        return ""
    left, unknown = eta_seconds(running, pending, workers)
    return ", ~%s left%s" % (duration(left), " (+%d target%s never timed here)" % (
        unknown, "" if unknown == 1 else "s") if unknown else "")


class LoadSampler:
    """The machine's 1-minute load average, sampled every 15 s while the run lasts:
    start, end and mean go into the report (host.load_average)."""

    def __init__(self):
        self.samples, self.stop = [], threading.Event()
        self.start = self.now()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def now():
        try:
            return [round(x, 2) for x in os.getloadavg()]
        except OSError:
            return [0.0, 0.0, 0.0]

    def _run(self):
        while not self.stop.wait(15.0):
            self.samples.append(self.now()[0])

    def result(self):
        self.stop.set()
        self.thread.join()
        end = self.now()
        mean = sum(self.samples) / len(self.samples) if self.samples else end[0]
        return {"start": self.start, "end": end, "mean_1min": round(mean, 2)}


class Board:
    """The progress of the targets under way ('[k/n] target: step m:ss', several at once
    with --targets-at-once) and the time left for the whole run. On a terminal one line
    rewritten in place every second; on a pipe one line per step and one a minute while a
    step runs. `expected` maps a target to this machine's last time (last_times)."""

    def __init__(self, n, workers, expected, pending, stream=None):
        self.n, self.workers, self.expected = n, workers, expected
        self.pending = list(pending)  # names not started yet, in start order
        self.active = []
        self.lock = threading.RLock()
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.stop = threading.Event()
        self.last_beat = time.monotonic()
        self.thread = threading.Thread(target=self._tick, daemon=True)
        self.thread.start()

    def start(self, k, name):
        with self.lock:
            if name in self.pending:
                self.pending.remove(name)
            p = Progress(self, k, name)
            self.active.append(p)
            return p

    def eta(self):
        now = time.monotonic()
        return eta_text([(self.expected.get(p.name), now - p.t0) for p in self.active],
                        [self.expected.get(name) for name in self.pending], self.workers)

    def line(self):
        now = time.monotonic()
        parts = ["[%d/%d] %s: %s  %s" % (p.k, self.n, p.name, p.step, duration(now - p.t0))
                 for p in self.active]
        return " | ".join(parts) + self.eta().replace(",", "", 1)

    def _write(self, text, clear=True):
        self.stream.write(("\r\033[K" if self.tty and clear else "") + text)
        self.stream.flush()

    def _tick(self):
        while not self.stop.wait(1.0):
            with self.lock:
                if any(p.held for p in self.active) or not self.active:
                    continue
                if self.tty:
                    self._write(self.line())
                elif time.monotonic() - self.last_beat >= 60:
                    self.last_beat = time.monotonic()
                    self._write(self.line() + "\n")

    def step(self, p):
        with self.lock:
            if self.tty:
                if not any(q.held for q in self.active):
                    self._write(self.line())
            else:
                self._write("[%d/%d] %s: %s  %s elapsed%s\n" % (
                    p.k, self.n, p.name, p.step, duration(time.monotonic() - p.t0),
                    self.eta()))

    def hold(self, p):
        with self.lock:
            p.held = True
            if self.tty:
                self._write("")

    def done(self, p, text):
        with self.lock:
            if p in self.active:
                self.active.remove(p)
            self._write(text + "\n")
            if self.tty and self.active and not any(q.held for q in self.active):
                self._write(self.line(), clear=False)

    def close(self):
        self.stop.set()
        self.thread.join()


class Progress:
    """One target's place on the Board: its current step, since when."""

    def __init__(self, board, k, name):
        self.board, self.k, self.name = board, k, name
        self.t0 = time.monotonic()
        self.step = "starting"
        self.held = False

    def set(self, step):
        self.step = step
        self.held = False
        self.board.step(self)

    def hold(self):
        """A runner that prints its own lines comes next: clear the line and stop redrawing
        it in place until the next step."""
        self.board.hold(self)

    def done(self, text):
        self.board.done(self, text)


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


def run_meson_target(t, args, scale, progress, caselog):
    """Setup, build (keeping going past what does not compile), test what built.
    Returns {"build_failures": [(test or None, message, detail)],
             "target_failure": (step, message, detail) or None, "tested": bool}."""
    res = {"build_failures": [], "target_failure": None, "tested": False}
    bdir = os.path.join(BUILD, t.name)
    log = os.path.join(bdir, "matrix.log")
    logbase = "testlog-" + t.name
    os.makedirs(bdir, exist_ok=True)
    with open(log, "w"):
        pass
    progress.set("meson setup")
    if meson_setup(t, bdir, log) != 0:
        text = read_from(log, 0)
        res["target_failure"] = ("setup", "meson setup failed: " + first_error_line(text),
                                 tail(text))
        return res
    progress.set("build")
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    off = os.path.getsize(log)
    runnable = None  # None: everything built, run every test
    if step(["meson", "compile", "-C", bdir, "--ninja-args=-k0"] + jobs, log) != 0:
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
    rc = step(["meson", "test", "-C", bdir, "--no-rebuild", "--logbase", logbase,
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


def run_one(t, args, scale, board, k):
    n = board.n
    bdir = os.path.join(BUILD, t.name)
    caselog = os.path.join(bdir, "case-log.jsonl")
    progress = board.start(k, t.name)
    t0 = time.monotonic()
    try:
        if t.kind in ("native", "cross"):
            run = run_meson_target(t, args, scale, progress, caselog)
        else:
            run = run_other_target(t, args, scale, progress, caselog)
        progress.set("report")
        cases, warnings = collect(bdir, "testlog-" + t.name, caselog, run)
        if run.get("skip_reason"):  # a row that cannot run here (x86_64-linux)
            warnings.append("the whole row was skipped: " + run["skip_reason"])
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


def run_other_target(t, args, scale, progress, caselog):
    """A target that is not a Meson build (the qemu-system rows): run it the way ./matrix
    test does, giving it the case log to write, then read whatever logs it left."""
    progress.set("run (./matrix test's way)")
    progress.hold()
    bdir = os.path.join(BUILD, t.name)
    os.makedirs(bdir, exist_ok=True)
    with open(caselog, "w"):
        pass
    r = run_target(t, args, scale, case_log=caselog)
    run = {"build_failures": [], "target_failure": None, "tested": True,
           "skip_reason": getattr(r, "skip_reason", None)}
    if r.status in ("setup failed", "build failed"):
        _, out = r.failures[0] if r.failures else (r.status, "")
        run["target_failure"] = (r.status.split()[0], "%s: %s" % (r.status, first_error_line(out)),
                                 out or None)
        run["tested"] = False
    return run


def build_key(t):
    """What a target's objects depend on besides the sources: its compiler and flags (the
    rows with equal keys compile the same objects, shared through ccache); None for the
    rows that are not Meson builds."""
    if t.kind == "system":
        return None
    mf = machine_file(t.name, t.machine_files)
    return (tuple(mf["c"]), tuple(mf["c_args"]))


def start_order(targets, times, key=build_key):
    """The order to start targets in when several run at once: the longest first (by this
    machine's last times), so that no long target is left running alone at the end; those
    never timed here first of all, in their listed order (their length is unknown). A
    target is not started right after one that builds the same objects (key): started
    together, both would compile them; a slot later, the second finds them in the cache."""
    todo = sorted(targets, key=lambda t: (times.get(t.name) is not None,
                                          -(times.get(t.name) or 0.0)))
    keys = {t.name: key(t) for t in targets}  # each machine file read once
    order = []
    while todo:
        last = keys[order[-1].name] if order else None
        pick = next((t for t in todo if last is None or keys[t.name] != last), todo[0])
        todo.remove(pick)
        order.append(pick)
    return order


def run_report(args, argv):
    """`./matrix report`: args is ./matrix's parsed options, argv its command line."""
    targets = select_targets(args.target)
    if not args.no_setup and setup.missing_items():
        setup.cmd_setup()
    outdir = os.path.abspath(args.out or os.path.join(ROOT, "reports"))
    os.makedirs(outdir, exist_ok=True)
    load_schema()  # fail early if the schema is unreadable
    info = {"generated": now_iso(), "ptxn_version": ptxn_version(), "git": git_state(),
            "host": host_info(), "command": " ".join(["./matrix"] + list(argv)),
            "quick": bool(args.quick)}
    t0 = time.monotonic()
    load = LoadSampler()
    times = last_times(BUILD, args.quick)
    # Targets are independent (each its own build directory and logs): several run at once
    # so that one target's serial tail (its last long test, a link) leaves no core idle.
    workers = max(1, min(len(targets), getattr(args, "targets_at_once", 0)
                         or (2 if (os.cpu_count() or 1) >= 2 else 1)))
    order = start_order(targets, times) if workers > 1 else list(targets)
    board = Board(len(targets), workers, times, [t.name for t in order])

    def one(k, t):
        # as ./matrix test sizes them
        return run_one(t, args, t.test_scale(args.scale, args.quick), board, k)

    done = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(one, k, t): t for k, t in enumerate(order, 1)}
            for f in concurrent.futures.as_completed(futures):
                t = futures[f]
                rep = f.result()
                save_time(BUILD, args.quick, t.name, rep["seconds"])
                if t.kind in ("native", "cross"):
                    publish_junit(t, os.path.join(BUILD, t.name, "meson-logs",
                                                  "testlog-%s.junit.xml" % t.name), outdir)
                info["generated"] = now_iso()
                write_target(outdir, rep, info)
                done[t.name] = rep
    finally:
        board.close()
    reports = [done[t.name] for t in targets]  # the matrix lists them as selected
    info["generated"] = now_iso()
    info["host"]["load_average"] = load.result()
    info["wall_seconds"] = round(time.monotonic() - t0, 1)
    info["targets_at_once"] = workers
    m = matrix_report(reports, info)
    write_matrix(outdir, m)
    tt = m["totals"]
    rel = os.path.relpath(outdir, os.getcwd())
    say("\n" + terminal_matrix(m))
    say("\n%d target%s in %s, %d at once (load average %.2f mean); reports: "
        "%s/matrix.html, matrix.md, matrix.json and <target>.json/.md" % (
            len(reports), "" if len(reports) == 1 else "s", duration(time.monotonic() - t0),
            workers, info["host"]["load_average"]["mean_1min"], rel))
    say("%d passed, %d failed" % (tt["passed"], tt["failed"]))
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
