#!/bin/sh
# SPDX-License-Identifier: MIT
# The hosted language modes of tests/compile_modes/meson.build, compiled with clang for
# this target's triple, on targets whose own compiler is GCC: the public headers must
# compile cleanly under both compilers on every architecture (issue #9). Compiled to
# objects (inline asm constraints are only checked at code generation), not linked or
# run: a GCC target has no clang runtime configured. TAP on stdout.
# Usage: compile_clang.sh OUTDIR SRCDIR INCLUDE_DIR CLANG --target=TRIPLE [-- FLAGS...]
set -u
out=$1 srcdir=$2 inc=$3 clang=$4 target=$5
shift 5
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"
n=0 failed=0
modes="c99: c11: c17: c99_debug:-DPTXN_DEBUG cpp11: cpp17: cpp17_debug:-DPTXN_DEBUG"
echo "1..7"
for m in $modes; do
	name=${m%%:*} def=${m#*:}
	case $name in
	c99*) lang="-x c -std=c99" src=probe.c ;;
	c11*) lang="-x c -std=c11" src=probe.c ;;
	c17*) lang="-x c -std=c17" src=probe.c ;;
	cpp11*) lang="-x c++ -std=c++11 -fno-exceptions -fno-rtti" src=probe.cpp ;;
	cpp17*) lang="-x c++ -std=c++17 -fno-exceptions -fno-rtti" src=probe.cpp ;;
	esac
	n=$((n + 1))
	# shellcheck disable=SC2086
	if log=$("$clang" "$target" $lang -Wall -Wextra -Wpedantic -Werror -O2 $def "$@" \
		-I "$inc" -DPROBE_NAME=probe_clang_$name -c "$srcdir/$src" \
		-o "$out/probe_clang_$name.o" 2>&1); then
		echo "ok $n - clang $target $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - clang $target $name"
		printf '%s\n' "$log" | sed 's/^/# /'
	fi
done
[ $failed -eq 0 ]
