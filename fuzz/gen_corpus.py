#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of the ptxn fuzz harnesses: fuzz/corpus/<harness>/seed-*.

Deterministic (no randomness): run it again after changing an input layout, and commit
the result. Each seed is a hand-picked case in the byte layout the harness reads
(fuzz/fuzz_format.c, fuzz/fuzz_commit.c, fuzz/fuzz_batch.c); the same bytes are interpreted by every entry
format, so one corpus per harness serves all four format builds. The seeds cover every
operation, every strategy, every MMU mode and quirk flag, and hardware Accessed/Dirty
updates before, during and inside a transaction - in particular dirty updates between
start and commit, which the deliberately broken merge (PTXN_FUZZ_BROKEN_MERGE) must lose
and the replay test must therefore catch.

usage: fuzz/gen_corpus.py [--out DIR]   (default: fuzz/corpus beside this script)
"""

import argparse
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# PTXN_PROT_* flags
R, W, X, U = 1, 2, 4, 8

# fuzz_format.c operations (op % 10)
F_MKYOUNG, F_MKOLD, F_MKDIRTY, F_MKCLEAN, F_WRPROTECT, F_MKWRITE, F_MODIFY, F_MODIFY2, \
    F_ADVANCE, F_MERGE = range(10)

# fuzz_commit.c software operations (op % 8) and events (byte: kind = e & 7, user = e & 8,
# mark-for-write = e & 16)
C_MKOLD, C_MKYOUNG, C_MKCLEAN, C_MKDIRTY, C_WRPROTECT, C_MKWRITE, C_MODIFY, C_ADVANCE = \
    range(8)
EV_READ, EV_WRITE, EV_EXEC, EV_TLB_DIRTY, EV_MARK = 0, 1, 2, 3, 4
USER, MARK_WRITE = 8, 16

PFNS = [0, 1, 0x12345, 0xfffff, 0x7ffffffff, 0xffffffffffffffff]


def format_seed(pfn, flags, pick, ops):
    """pfn (8 bytes LE), flags, attribute picks, op count, then (op, a, b) triples."""
    out = struct.pack("<QBBB", pfn, flags, pick, len(ops))
    for op in ops:
        out += bytes(op)
    return out


def format_seeds():
    seeds = []
    every_op = [(F_MKYOUNG, 0, 0), (F_MKDIRTY, 0, 0), (F_MERGE, 3, 8), (F_WRPROTECT, 0, 0),
                (F_MERGE, 3, 0), (F_MKWRITE, 0, 0), (F_MODIFY, R, 0), (F_MERGE, 2, 1),
                (F_MODIFY2, R | W | U, 3), (F_MKCLEAN, 0, 0), (F_MKOLD, 0, 0),
                (F_ADVANCE, 5, 0), (F_MODIFY, 0, 0), (F_MODIFY, R | W, 0), (F_MERGE, 3, 4)]
    for i, pfn in enumerate(PFNS):
        for flags in (R | W | U, R | U, X | U, 0):
            seeds.append(format_seed(pfn, flags, i * 7, every_op))
    # Protection round trips: every flag combination once, with attribute picks.
    for flags in range(16):
        seeds.append(format_seed(0x4242, flags, flags * 17,
                                 [(F_MODIFY, (flags + 5) & 15, 0x21), (F_MKDIRTY, 0, 0),
                                  (F_MODIFY, flags, 0x42), (F_MERGE, 3, 2)]))
    return seeds


def commit_cfg(strategy, mode):
    """The config byte: strategy = byte % 3 (0 auto, 1 clear, 2 merge), quirk/MMU bits 2-4."""
    for k in range(3):
        if (mode + k) % 3 == strategy:
            return mode + k
    raise AssertionError


def commit_seed(cfg, pfn, flags, pick, init, pre, flush, ops, between):
    out = struct.pack("<BQBB", cfg, pfn, flags, pick)
    out += bytes([len(init)] + init + [len(pre)] + pre + [len(flush)] + flush + [len(ops)])
    for op in ops:
        out += bytes(op)
    out += bytes([len(between)] + between)
    return out


def commit_seeds():
    # Modes (bits 2-4 of the config byte): x86 bit 3 = CET; ARM64 bit 2 = erratum
    # 2645198, bit 3/4 = HA / HA+HD; PowerPC bit 2 = coprocessor, bit 3 = R/C interrupt.
    modes = [0, 4, 8, 16, 28]
    scenarios = [
        # writable entry, used; made read-only while the MMU writes it (CET: SavedDirty)
        dict(flags=R | W | U, init=[], pre=[EV_READ | USER], flush=[EV_WRITE],
             ops=[(C_WRPROTECT, 0, 0)],
             between=[EV_WRITE | USER, EV_MARK | MARK_WRITE, EV_READ]),
        # read-only entry made writable while a stale TLB entry writes it
        dict(flags=R | U, init=[C_WRPROTECT], pre=[EV_EXEC], flush=[],
             ops=[(C_MODIFY, R | W | U, 0)],
             between=[EV_TLB_DIRTY, EV_WRITE, EV_MARK | MARK_WRITE]),
        # executable user entry, cleaned and aged (erratum path on ARM64), frame moved (BBM)
        dict(flags=R | W | X | U, init=[C_MKDIRTY], pre=[EV_WRITE | USER], flush=[EV_READ],
             ops=[(C_MKCLEAN, 0, 0), (C_MKOLD, 0, 0), (C_ADVANCE, 1, 0)],
             between=[EV_READ | USER, EV_WRITE | USER, EV_TLB_DIRTY]),
    ]
    seeds = []
    for strategy in range(3):
        for mode in modes:
            for i, s in enumerate(scenarios):
                pfn = PFNS[(strategy + mode + i) % len(PFNS)]
                seeds.append(commit_seed(commit_cfg(strategy, mode), pfn, s["flags"], i * 3,
                                         s["init"], s["pre"], s["flush"], s["ops"],
                                         s["between"]))
    # Unchanged commit (new == old) with updates in between, and PROT_NONE round trips.
    for strategy in range(3):
        seeds.append(commit_seed(commit_cfg(strategy, 0), 0x1000, R | W, 0, [], [], [], [],
                                 [EV_WRITE, EV_TLB_DIRTY]))
        seeds.append(commit_seed(commit_cfg(strategy, 8), 0x2000, 0, 0, [], [], [],
                                 [(C_MODIFY, R | W, 0)], [EV_WRITE, EV_READ]))
    return seeds


def batch_seed(cfg, nr, pfn, flags, pick, init, ad, pre, flush, ops, between):
    """Like commit_seed, with nr after the config byte and one A/D byte per entry."""
    out = struct.pack("<BBQBB", cfg, nr - 1, pfn, flags, pick)
    out += bytes([len(init)] + init + ad[:nr] + [len(pre)] + pre + [len(flush)] + flush +
                 [len(ops)])
    for op in ops:
        out += bytes(op)
    out += bytes([len(between)] + between)
    return out


def on(i, e):
    """An event byte aimed at entry i of a batch."""
    return e | (i << 5)


def batch_seeds():
    modes = [0, 4, 8, 16, 28]
    scenarios = [
        # a folio of 4, mixed A/D; made read-only while the MMU writes entries 1 and 3
        dict(nr=4, flags=R | W | U, init=[], ad=[3, 0, 1, 2], pre=[on(2, EV_READ)],
             flush=[on(1, EV_WRITE)], ops=[(C_WRPROTECT, 0, 0)],
             between=[on(1, EV_WRITE | USER), on(3, EV_MARK | MARK_WRITE), on(0, EV_READ)]),
        # read-only folio of 2 made writable, stale-TLB writes on both
        dict(nr=2, flags=R | U, init=[C_WRPROTECT], ad=[1, 3], pre=[on(1, EV_EXEC)], flush=[],
             ops=[(C_MODIFY, R | W | U, 0)],
             between=[on(0, EV_TLB_DIRTY), on(1, EV_TLB_DIRTY), on(1, EV_WRITE)]),
        # executable folio of 3, cleaned, aged and moved (ARM64 break-before-make per entry)
        dict(nr=3, flags=R | W | X | U, init=[C_MKDIRTY], ad=[3, 3, 3],
             pre=[on(2, EV_WRITE | USER)], flush=[on(2, EV_WRITE), on(0, EV_READ)],
             ops=[(C_MKCLEAN, 0, 0), (C_MKOLD, 0, 0), (C_ADVANCE, 1, 0)],
             between=[on(0, EV_WRITE | USER), on(1, EV_READ | USER), on(2, EV_TLB_DIRTY)]),
    ]
    seeds = []
    for strategy in range(3):
        for mode in modes:
            for i, s in enumerate(scenarios):
                pfn = PFNS[(strategy + mode + i) % len(PFNS)]
                seeds.append(batch_seed(commit_cfg(strategy, mode), s["nr"], pfn, s["flags"],
                                        i * 3, s["init"], s["ad"], s["pre"], s["flush"],
                                        s["ops"], s["between"]))
    return seeds


def write(out, name, seeds):
    d = os.path.join(out, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for i, data in enumerate(seeds):
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (d, len(seeds)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = p.parse_args()
    write(args.out, "format", format_seeds())
    write(args.out, "commit", commit_seeds())
    write(args.out, "batch", batch_seeds())


if __name__ == "__main__":
    main()
