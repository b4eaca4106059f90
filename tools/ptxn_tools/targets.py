# SPDX-License-Identifier: MIT
"""The targets of ./matrix (one Meson machine file each, cross-files/<target>.ini, or a
bare-metal guest run by baremetal/bmrun.py), how the i686-host row runs on this machine,
and picking targets from -t."""

import os
import shutil
import subprocess
import tempfile

from .common import ROOT, read_machine_files, tail


class Target:
    # A row's own factor on PTXN_TEST_SCALE (SECOND_COMPILER_SCALE: x86_64-clang).
    scale_factor = 1.0

    def __init__(self, name, kind, toolchain, runs_on, scale_factor=1.0):
        self.name = name
        self.kind = kind  # 'native' (--native-file) or 'cross' (--cross-file)
        self.toolchain = toolchain
        self.runs_on = runs_on
        self.file = os.path.join("cross-files", name + ".ini")
        self.scale_factor = scale_factor

    def test_scale(self, scale, quick):
        """PTXN_TEST_SCALE for this row at --scale `scale`: times QEMU_SCALE under
        qemu-user, the row's own factor, and QUICK_SCALE with --quick. (The qemu-system rows
        take --scale alone, in baremetal/bmrun.py.)"""
        factor = QEMU_SCALE if self.under_qemu and self.kind in ("native", "cross") else 1.0
        return scale * factor * self.scale_factor * (QUICK_SCALE if quick else 1.0)

    @property
    def machine_files(self):
        """The Meson machine files this target is configured with, in order (later ones
        override earlier ones, as Meson layers repeated --cross-file options)."""
        return [self.file]

    @property
    def note(self):
        """A sentence on how this row runs differently here than its table row says, or None."""
        return None

    def _constant(self, key):
        """A [properties] or [constants] string of the machine files, the last one winning;
        "?" if a file is missing."""
        try:
            sections = read_machine_files(self.machine_files)
        except OSError:
            return "?"
        for section in ("properties", "constants"):
            value = sections.get(section, {}).get(key)
            if isinstance(value, str):
                return value
        return None

    @property
    def cpu(self):
        """The -cpu the cross file gives qemu, read from the file itself."""
        return self._constant("qemu_cpu") or "-"

    @property
    def under_qemu(self):
        return self.runs_on.startswith("qemu")


class I686HostTarget(Target):
    """i686 binaries run by the x86-64 host's own kernel when it can (ia32 emulation), else
    under qemu-i386 with a CPU model no other row uses (issue 16). Which one is decided at
    run time by i686_host_runner(); the row is never dropped and never fails for the host's
    reason."""

    QEMU_OVERLAY = os.path.join("cross-files", "i686-host.under-qemu.ini")

    def __init__(self, name, toolchain):
        self.name, self.kind, self.toolchain = name, "cross", toolchain
        self.file = os.path.join("cross-files", name + ".ini")

    @property
    def runner(self):
        return i686_host_runner()[0]

    @property
    def runs_on(self):
        return "host" if self.runner == "native" else "qemu-i386"

    @property
    def machine_files(self):
        return [self.file] + ([self.QEMU_OVERLAY] if self.runner == "qemu" else [])

    @property
    def note(self):
        if self.runner == "native":
            return None
        return "%s: runs under qemu-i386 -cpu %s instead of natively" % (
            i686_host_runner()[1], self.cpu)


class SystemTarget(Target):
    """A bare-metal guest under qemu-system: no Meson, built and run by baremetal/bmrun.py;
    its test cases are the guest's PTXN-CASE lines (docs/baremetal.md)."""

    def __init__(self, name, toolchain, runs_on, cpu):
        Target.__init__(self, name, "system", toolchain, runs_on)
        self.file = os.path.join("baremetal", "bmrun.py")
        self.system_cpu = cpu

    @property
    def cpu(self):
        return self.system_cpu

    # where the runner script is (a directory under ROOT) and its module name
    runner_dir, runner_module = "baremetal", "bmrun"


class LinuxTarget(SystemTarget):
    """Debian's own kernel booted under qemu-system with ptxn in a module
    (examples/linux-module/, docs/linux-module.md): run by kmrun.py the way a *-system row
    is run by bmrun.py. Skipped with the reason where the kernel packages are missing."""

    runner_dir, runner_module = os.path.join("examples", "linux-module"), "kmrun"

    def __init__(self, name, toolchain, runs_on, cpu):
        SystemTarget.__init__(self, name, toolchain, runs_on, cpu)
        self.file = os.path.join(self.runner_dir, "kmrun.py")


# ------------------------------------------------------------- can this host run i686?

I686_HOST_ENV = "PTXN_I686_HOST"  # 'native' or 'qemu': overrides the probe
I686_CC = "i686-linux-gnu-gcc"
_i686_runner = None


def probe_i686():
    """Build a tiny i686 program and run it: (True, None) if the host kernel executes it,
    else (False, why). Kernels without ia32 emulation refuse it with ENOEXEC."""
    if not shutil.which(I686_CC):
        return False, "%s is not installed" % I686_CC
    with tempfile.TemporaryDirectory(prefix="ptxn-i686-probe-") as d:
        src, exe = os.path.join(d, "probe.c"), os.path.join(d, "probe")
        with open(src, "w") as f:
            f.write("int main(void) { return sizeof(void *) == 4 ? 42 : 1; }\n")
        r = subprocess.run([I686_CC, src, "-o", exe], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            return False, "%s cannot build the probe: %s" % (I686_CC, tail(r.stdout, 3))
        try:
            rc = subprocess.run([exe], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=30).returncode
        except OSError as e:
            return False, "this host cannot execute i686 binaries (%s)" % (e.strerror or e)
        except subprocess.TimeoutExpired:
            return False, "an i686 probe binary did not finish on this host"
        if rc != 42:
            return False, "an i686 probe binary exited %d on this host instead of 42" % rc
    return True, None


def i686_host_runner():
    """('native' or 'qemu', why): how the i686-host row runs on this machine. Decided once
    per ./matrix run (never cached across runs or machines): PTXN_I686_HOST=native|qemu
    if set, else the probe."""
    global _i686_runner
    if _i686_runner is None:
        forced = os.environ.get(I686_HOST_ENV, "").strip()
        if forced in ("native", "qemu"):
            _i686_runner = (forced, "%s=%s" % (I686_HOST_ENV, forced))
        elif forced:
            raise SystemExit("matrix: %s=%r: expected 'native' or 'qemu'"
                             % (I686_HOST_ENV, forced))
        else:
            ok, why = probe_i686()
            _i686_runner = ("native", "the host executes i686 binaries") if ok else ("qemu", why)
    return _i686_runner


QEMU_SCALE = 0.25  # PTXN_TEST_SCALE factor for targets run under qemu-user
QUICK_SCALE = 0.1  # and for --quick
SECOND_COMPILER_SCALE = 0.25  # and for x86_64-clang (above: Target.test_scale)

# One row per target; the machine file is cross-files/<name>.ini (one file per target).
TARGETS = [
    Target("x86_64-gcc", "native", "gcc 12", "host"),
    # The second compiler on the same host: it checks clang's translation of the code the
    # gcc row runs at full size, so its loops run at the qemu-user rows' size.
    Target("x86_64-clang", "native", "clang 14", "host", scale_factor=SECOND_COMPILER_SCALE),
    I686HostTarget("i686-host", "i686-linux-gnu-gcc"),
    Target("i686-qemu", "cross", "i686-linux-gnu-gcc", "qemu-i386"),
    Target("aarch64-llsc", "cross", "aarch64-linux-gnu-gcc -march=armv8-a -mno-outline-atomics",
           "qemu-aarch64"),
    Target("aarch64-lse", "cross", "aarch64-linux-gnu-gcc -march=armv8.2-a", "qemu-aarch64"),
    Target("aarch64-clang", "cross", "clang 14 --target=aarch64-linux-gnu", "qemu-aarch64"),
    Target("ppc64le-power8", "cross", "powerpc64le-linux-gnu-gcc", "qemu-ppc64le"),
    Target("ppc64le-power9", "cross", "powerpc64le-linux-gnu-gcc", "qemu-ppc64le"),
    Target("ppc64le-power10", "cross", "powerpc64le-linux-gnu-gcc", "qemu-ppc64le"),
    Target("ppc64be-power9", "cross", "powerpc64-linux-gnu-gcc -static", "qemu-ppc64"),
    Target("riscv64", "cross", "riscv64-linux-gnu-gcc -static", "qemu-riscv64"),
    Target("riscv64-u54", "cross", "riscv64-linux-gnu-gcc -static", "qemu-riscv64"),
    # The bare-metal tier: QEMU's own MMU sets A/D (baremetal/, docs/baremetal.md).
    SystemTarget("aarch64-system", "aarch64-linux-gnu-gcc -ffreestanding (LSE)",
                 "qemu-system-aarch64", "max"),
    SystemTarget("aarch64-system-nohafdbs", "aarch64-linux-gnu-gcc -ffreestanding (LL/SC)",
                 "qemu-system-aarch64", "cortex-a57"),
    SystemTarget("x86_64-system", "x86_64-linux-gnu-gcc -ffreestanding",
                 "qemu-system-x86_64", "max"),
    SystemTarget("i686-system", "i686-linux-gnu-gcc -ffreestanding (PAE)",
                 "qemu-system-i386", "max"),
    SystemTarget("riscv64-system", "riscv64-linux-gnu-gcc -ffreestanding (rv64imac, S-mode)",
                 "qemu-system-riscv64", "rv64"),
    # ptxn in a module of Debian's own kernel (examples/linux-module/, docs/linux-module.md).
    LinuxTarget("x86_64-linux", "gcc 12, Kbuild of Debian's linux-headers-amd64",
                "qemu-system-x86_64", "max"),
]
BY_NAME = {t.name: t for t in TARGETS}



def select_targets(names):
    if not names:
        return list(TARGETS)
    out = []
    for chunk in names:
        for n in filter(None, (x.strip() for x in chunk.split(","))):
            if n not in BY_NAME:
                raise SystemExit("matrix: unknown target %r; known: %s"
                                 % (n, ", ".join(BY_NAME)))
            if BY_NAME[n] not in out:
                out.append(BY_NAME[n])
    return out
