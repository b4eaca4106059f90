#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/debug_cost.sh [bench-compare options]
# What PTXN_DEBUG's contract checking costs, and that a release build pays nothing for it:
# builds bench/compare.c twice with the host compiler at -O2, as a release build and with
# -DPTXN_DEBUG, into build/bench-release and build/bench-debug, and runs the same cells with
# both (default: 16,384 entries, 0 and 100 % quiescent, no concurrent hardware, the Linux
# baseline and every single-entry and batched ptxn row). linux-clear never calls ptxn's
# transaction code, so it must cost the same in both builds; the ptxn rows of the release
# build must match docs/bench.md's. Figures: docs/bench.md, "Contract checking".
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build"
cc=${CC:-cc}
$cc -O2 -Wall -Wextra -pthread -I"$root/include" "$root/bench/compare.c" -o "$root/build/bench-release"
$cc -O2 -Wall -Wextra -pthread -I"$root/include" -DPTXN_DEBUG "$root/bench/compare.c" -o "$root/build/bench-debug"
[ $# -gt 0 ] || set -- --sizes 16384 --shares 0,1 --scenarios no-hw --samples 7 \
	--contenders linux-clear,ptxn-clear,ptxn-merge,ptxn-auto,ptxn-clear-ptes,ptxn-merge-ptes,ptxn-auto-ptes
for build in release debug; do
	echo "== $build build (bench/compare.c$([ $build = debug ] && echo ' -DPTXN_DEBUG'))"
	"$root/build/bench-$build" "$@"
done
