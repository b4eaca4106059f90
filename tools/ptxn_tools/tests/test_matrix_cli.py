# SPDX-License-Identifier: MIT
"""./matrix's command line: every form the docs and CI use still parses, options before
the command still count, and each command's --help comes from argparse.

Nothing is built or run: ./matrix is loaded as a module and only its parser is used.
Run by `meson test` on the host GCC build (tools/meson.build); by hand:
`cd tools && python3 -m unittest -v ptxn_tools.tests.test_matrix_cli`.
"""

import contextlib
import glob
import io
import os
import re
import runpy
import unittest

from ptxn_tools.common import ROOT, read_machine_files

MX = runpy.run_path(os.path.join(ROOT, "matrix"), run_name="ptxn_matrix_under_test")
COMMANDS = ["test", "report", "setup", "list", "soak", "bench", "fuzz"]

# What a placeholder in the docs stands for.
PLACEHOLDERS = {"N": "1", "NR": "16", "S": "0x1234", "X": "0.5", "NAME": "x86_64-gcc",
                "DIR": "out", "FILE": "out.json"}


def parse(line):
    return MX["parse_args"](line.split())


def documented_forms():
    """(file, command line) for every `./matrix ...` in code of the docs and in .ci/run,
    placeholders filled in."""
    files = [".ci/run"] + [f for pattern in ("*.md", "*/*.md")  # README.md, docs/, fuzz/ ...
                           for f in glob.glob(pattern, root_dir=ROOT) if f != "CHANGELOG.md"]
    for f in sorted(files):
        with open(os.path.join(ROOT, f)) as fh:
            text = fh.read()
        spans = re.findall(r"`([^`\n]*\./matrix[^`\n]*)`", text)
        spans += [ln for ln in text.splitlines() if ln.lstrip().startswith("./matrix")]
        for span in spans:
            for m in re.finditer(r"\./matrix(?![\w/.-])([^#;&|]*)", span):
                args = re.sub(r"\[[^]]*\]|\.\.\.", " ", m.group(1)).split()
                args = ["x86_64-gcc" if re.fullmatch(r"<[^>]*>", a) else PLACEHOLDERS.get(a, a)
                        for a in args]
                yield f, args


class DocumentedForms(unittest.TestCase):
    def test_every_documented_command_line_parses(self):
        forms = list(documented_forms())
        self.assertGreater(len(forms), 30)  # the scan found the docs
        for f, args in forms:
            with self.subTest(file=f, args=" ".join(args)):
                if "--help" in args:
                    with contextlib.redirect_stdout(io.StringIO()) as out, \
                            self.assertRaises(SystemExit) as cm:
                        MX["parse_args"](args)
                    self.assertEqual(cm.exception.code, 0)
                    self.assertIn("usage: ./matrix", out.getvalue())
                else:
                    MX["parse_args"](args)

    def test_ci_command_lines(self):
        a = parse("test --quick")
        self.assertEqual((a.command, a.quick, a.target, a.scale, a.no_setup, a.sanitize),
                         ("test", True, [], 1.0, False, False))
        a = parse("test --sanitize --quick --no-setup")
        self.assertTrue(a.sanitize and a.quick and a.no_setup)
        a = parse("fuzz --quick")
        self.assertEqual((a.command, a.quick, a.seconds, a.jobs, a.harness), ("fuzz", True,
                                                                              None, 1, None))
        a = parse("soak --minutes 1 --no-setup")
        self.assertEqual((a.command, a.minutes, a.no_setup, a.seed, a.target, a.scale),
                         ("soak", 1.0, True, None, [], 1.0))
        a = parse("bench --quick")
        self.assertEqual((a.command, a.quick, a.target, a.sizes), ("bench", True, "x86_64-gcc",
                                                                  "512,16384,262144"))


class OldForms(unittest.TestCase):
    """What the parser before argparse's help accepted: options anywhere, no command."""

    def test_no_command_is_test(self):
        a = parse("")
        self.assertEqual((a.command, a.quick, a.target, a.jobs, a.list), (None, False, [], 0,
                                                                         False))
        a = parse("--quick -t aarch64-lse,x86_64-gcc -j 2")
        self.assertEqual((a.command, a.quick, a.target, a.jobs),
                         (None, True, ["aarch64-lse,x86_64-gcc"], 2))
        self.assertTrue(parse("--list").list)

    def test_options_before_the_command(self):
        a = parse("--quick --out /tmp/r report --scale 0.5")
        self.assertEqual((a.command, a.quick, a.out, a.scale), ("report", True, "/tmp/r", 0.5))
        a = parse("-t aarch64-lse test -t x86_64-gcc --target i686-qemu")
        self.assertEqual(a.target, ["aarch64-lse", "x86_64-gcc", "i686-qemu"])
        a = parse("--minutes 2 soak --seed 0x1")
        self.assertEqual((a.minutes, a.seed), (2.0, "0x1"))

    def test_soak_replay_line(self):  # what a failing soak prints (ptxn_tools/soak.py)
        a = parse("soak -t x86_64-gcc --seed 0x00000000deadbeef --scale 1")
        self.assertEqual((a.target, a.seed, a.scale), (["x86_64-gcc"], "0x00000000deadbeef", 1.0))

    def test_refused(self):
        for line in ("--scale 0 test", "report --scale -1", "frobnicate", "setup --quick",
                     "--quick bench", "fuzz --seconds 0", "test extra"):
            with self.subTest(line=line), contextlib.redirect_stderr(io.StringIO()), \
                    self.assertRaises(SystemExit) as cm:
                parse(line)
            self.assertEqual(cm.exception.code, 2)


class Help(unittest.TestCase):
    def help_of(self, line):
        with contextlib.redirect_stdout(io.StringIO()) as out, \
                self.assertRaises(SystemExit) as cm:
            parse(line)
        self.assertEqual(cm.exception.code, 0)
        return out.getvalue()

    def test_main_help_lists_the_commands(self):
        text = self.help_of("--help")
        for c in COMMANDS:
            self.assertRegex(text, r"(?m)^    %s\s+\S" % c)
        self.assertIn("counting:", text)

    def test_every_command_has_its_own_help(self):
        for c in COMMANDS:
            with self.subTest(command=c):
                text = self.help_of(c + " --help")
                self.assertTrue(text.startswith("usage: ./matrix %s " % c), text[:80])
                # every option documented
                self.assertNotRegex(text, r"(?m)^  --?[\w-]+( [A-Z,]+)?\s*$")
        self.assertIn("--minutes N", self.help_of("soak --help"))
        self.assertIn("python3-jsonschema", self.help_of("setup --help"))


if __name__ == "__main__":
    unittest.main(verbosity=2)


class MachineFiles(unittest.TestCase):
    """One reader of cross-files/ (common.read_machine_files) serves both the rows' CPU
    model (targets.Target.cpu) and the bench's compiler and wrapper (bench.machine_file):
    they must agree on every row that runs under qemu-user, the i686 overlay included."""

    def test_cpu_and_exe_wrapper_agree(self):
        from ptxn_tools import bench, targets

        checked = 0
        for t in targets.TARGETS:
            if t.kind not in ("native", "cross") or not hasattr(t, "file"):
                continue
            files = list(t.machine_files)
            layers = [files]
            if isinstance(t, targets.I686HostTarget):
                layers = [[t.file], [t.file, t.QEMU_OVERLAY]]
            for layer in layers:
                mf = bench.machine_file(t.name, layer)
                self.assertTrue(mf["c"], t.name)
                wrapper = mf["exe_wrapper"]
                if not wrapper:
                    continue
                self.assertIn("-cpu", wrapper, (t.name, layer))
                cpu = wrapper[wrapper.index("-cpu") + 1]
                sections = read_machine_files(layer)
                self.assertEqual(sections["properties"]["qemu_cpu"], cpu, (t.name, layer))
                if layer == files:
                    self.assertEqual(t.cpu, cpu, t.name)  # the -cpu reports print
                checked += 1
        self.assertGreater(checked, 10)

    def test_later_file_overrides(self):
        base = read_machine_files(["cross-files/i686-host.ini"])
        both = read_machine_files(["cross-files/i686-host.ini",
                                   "cross-files/i686-host.under-qemu.ini"])
        self.assertEqual(both["constants"]["qemu_cpu"], "max")
        self.assertEqual(both["binaries"]["exe_wrapper"], ["qemu-i386-static", "-cpu", "max"])
        self.assertEqual(both["binaries"]["c"], base["binaries"]["c"])
        with self.assertRaises(OSError):
            read_machine_files(["cross-files/no-such-row.ini"])
