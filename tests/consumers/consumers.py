#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ptxn as other projects consume it: install + pkg-config, plain compiler, Meson with the
installed ptxn.pc, Meson subproject, kernel-tree copy. TAP on stdout; every command and
its output on stderr (meson test keeps both in its log). tests/consumers/meson.build
lists the steps."""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

HEADER_DIRS = ["core", "generic", "arch", "hwemu", "pvemu"]
ENTRY_POINTS = ["ptxn.h", "hwemu.h", "pvemu.h"]

results = []


def sh(cmd, env=None, cwd=None):
    """Run cmd, log it and its output to stderr; return (exit code, output)."""
    sys.stderr.write("$ %s\n" % " ".join(cmd))
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       universal_newlines=True)
    sys.stderr.write(p.stdout)
    return p.returncode, p.stdout


class Failed(Exception):
    pass


def must(cmd, env=None, cwd=None):
    rc, out = sh(cmd, env=env, cwd=cwd)
    if rc != 0:
        raise Failed("%s: exit %d" % (os.path.basename(cmd[0]), rc))
    return out


def step(name):
    def wrap(fn):
        def run(*a):
            try:
                detail = fn(*a)
                results.append((True, name, detail or ""))
            except Failed as e:
                results.append((False, name, str(e)))
            except OSError as e:
                results.append((False, name, "%s" % e))
        return run
    return wrap


def env_with(**kw):
    env = dict(os.environ)
    # Nested meson runs must not see the outer test's settings.
    for k in list(env):
        if k.startswith("MESON_") or k in ("PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"):
            del env[k]
    env.update({k: v for k, v in kw.items() if v is not None})
    return env


def header_version(source):
    text = open(os.path.join(source, "core", "version.h")).read()
    parts = [re.search(r"#define PTXN_VERSION_%s (\d+)" % p, text) for p in
             ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise Failed("core/version.h lacks PTXN_VERSION_MAJOR/MINOR/PATCH")
    return ".".join(m.group(1) for m in parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--meson", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--cc", nargs="+", required=True)
    a = ap.parse_args()

    src, work, meson, cc = os.path.abspath(a.source), os.path.abspath(a.work), a.meson, a.cc
    example = os.path.join(src, "examples", "mini-mprotect")
    prefix = os.path.join(work, "prefix")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # The compiler this build uses, for the nested Meson runs too.
    cenv = env_with(CC=" ".join(cc))
    state = {}

    @step("meson install into a temporary prefix installs every header and both .pc files")
    def install():
        bdir = os.path.join(work, "ptxn-build")
        must([meson, "setup", "--prefix", prefix, "-Dtests=false", bdir, src], env=cenv)
        must([meson, "install", "-C", bdir, "--quiet"], env=cenv)
        inc = os.path.join(prefix, "include", "ptxn")
        missing = [e for e in ENTRY_POINTS if not os.path.isfile(os.path.join(inc, e))]
        for d in HEADER_DIRS:
            for f in glob.glob(os.path.join(src, d, "**", "*.h"), recursive=True):
                if not os.path.isfile(os.path.join(inc, os.path.relpath(f, src))):
                    missing.append(os.path.relpath(f, src))
        pcs = {os.path.basename(p): os.path.dirname(p) for p in
               glob.glob(os.path.join(prefix, "**", "*.pc"), recursive=True)}
        missing += [p for p in ("ptxn.pc", "ptxn-hwemu.pc") if p not in pcs]
        if missing:
            raise Failed("not installed: " + ", ".join(missing))
        state["pkgconfig"] = pcs["ptxn.pc"]
        return "%d headers" % len(glob.glob(os.path.join(inc, "**", "*.h"), recursive=True))

    @step("pkg-config: ptxn.pc and ptxn-hwemu.pc point at the installed headers, version = core/version.h = meson.build")
    def pkgconfig():
        if "pkgconfig" not in state:
            raise Failed("nothing installed")
        env = env_with(PKG_CONFIG_PATH=state["pkgconfig"])
        state["pcenv"] = env
        want = header_version(src)
        if want != a.version:
            raise Failed("core/version.h says %s, meson.build %s" % (want, a.version))
        for pc in ("ptxn", "ptxn-hwemu"):
            got = must(["pkg-config", "--modversion", pc], env=env).strip()
            if got != want:
                raise Failed("%s.pc version %s, core/version.h %s" % (pc, got, want))
        cflags = must(["pkg-config", "--cflags", "ptxn"], env=env).split()
        if "-I" + os.path.join(prefix, "include") not in cflags and \
                os.path.join(prefix, "include") != "/usr/include":
            raise Failed("ptxn.pc cflags %s lack -I%s/include" % (cflags, prefix))
        libs = must(["pkg-config", "--libs", "ptxn-hwemu"], env=env).split()
        if "-pthread" not in libs:
            raise Failed("ptxn-hwemu.pc libs %s lack -pthread" % libs)
        state["cflags"] = cflags
        return "ptxn %s" % want

    @step("plain compiler against the installed tree: protect_page (ptxn.pc), mini-mprotect (ptxn-hwemu.pc), both run")
    def plain():
        if "pcenv" not in state:
            raise Failed("no pkg-config")
        env = state["pcenv"]
        hw = must(["pkg-config", "--cflags", "--libs", "ptxn-hwemu"], env=env).split()
        strict = ["-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
        pp = os.path.join(work, "protect_page")
        must(cc + strict + ["-std=c99", os.path.join(src, "examples", "protect_page.c"),
                            "-o", pp] + state["cflags"])
        must([pp])
        mm = os.path.join(work, "mini-mprotect-plain")
        must(cc + strict + [os.path.join(example, "mini_mprotect.c"), "-o", mm] + hw)
        out = must([mm, "--rounds", "3"])
        if not out.rstrip().endswith("OK"):
            raise Failed("mini-mprotect did not say OK")

    def meson_example(name, wrap_mode, env, expect):
        bdir = os.path.join(work, name)
        out = must([meson, "setup", "--wrap-mode=" + wrap_mode, bdir, example], env=env)
        if not re.search(expect, out):
            raise Failed("meson setup did not report %r" % expect)
        must([meson, "compile", "-C", bdir], env=env)
        run = must([os.path.join(bdir, "mini-mprotect"), "--rounds", "3"], env=env)
        if not run.rstrip().endswith("OK"):
            raise Failed("mini-mprotect did not say OK")
        return run.splitlines()[0]

    @step("Meson consumer of the installed ptxn.pc: examples/mini-mprotect, --wrap-mode=nofallback, built and run")
    def meson_pc():
        if "pcenv" not in state:
            raise Failed("no pkg-config")
        env = dict(state["pcenv"], CC=" ".join(cc))
        return meson_example("example-pkgconfig", "nofallback", env,
                             r"Run-time dependency ptxn found: YES %s" % re.escape(a.version))

    @step("Meson subproject consumer: examples/mini-mprotect with subprojects/ptxn, --wrap-mode=forcefallback, built and run")
    def meson_sub():
        return meson_example("example-subproject", "forcefallback", cenv,
                             r"Dependency ptxn found: YES %s \(overridden\)" %
                             re.escape(a.version))

    @step("kernel-tree copy (README): include/, core/, generic/, arch/ copied, compiled freestanding with -nostdinc")
    def kernel_copy():
        tree = os.path.join(work, "kernel", "lib", "ptxn")
        for d in ["include", "core", "generic", "arch"]:
            shutil.copytree(os.path.join(src, d), os.path.join(tree, d))
        rc, own = sh(cc + ["-print-file-name=include"])
        own = own.strip()
        if "clang" in os.path.basename(cc[0]):
            own = must(cc + ["-print-resource-dir"]).strip() + "/include"
        must(cc + ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-ffreestanding",
                   "-fno-builtin", "-nostdinc", "-isystem", own,
                   "-I", os.path.join(tree, "include"), "-DPROBE_NAME=probe_kernel", "-c",
                   os.path.join(src, "tests", "compile_modes", "probe.c"),
                   "-o", os.path.join(work, "probe_kernel.o")])

    for fn in (install, pkgconfig, plain, meson_pc, meson_sub, kernel_copy):
        fn()
    print("1..%d" % len(results))
    for i, (ok, name, detail) in enumerate(results, 1):
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                " (%s)" % detail if detail else ""))
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
