#!/bin/sh
# SPDX-License-Identifier: MIT
# Compiles probe.c the way a kernel would (tests/compile_modes/meson.build passes the
# compiler and its flags), then proves the object needs nothing from outside: no libc, no
# libatomic, no libgcc helper. Usage: compile_kernel.sh OUT.o SOURCE INCLUDE_DIR CC... -- FLAGS...
set -eu
out=$1 src=$2 inc=$3
shift 3
cc=""
while [ "$1" != "--" ]; do cc="$cc $1"; shift; done
shift
own=$($cc -print-file-name=include 2>/dev/null || true)
case "$cc" in *clang*) own="$($cc -print-resource-dir)/include" ;; esac
# shellcheck disable=SC2086
$cc -Wall -Wextra -Wpedantic -Werror -std=c11 -ffreestanding -nostdlib -fno-builtin -nostdinc \
	-isystem "$own" -I "$inc" "$@" -DPROBE_NAME=probe_kernel -c "$src" -o "$out"
# .TOC. is the PowerPC ELFv2 TOC base, defined by the linker in every image: not a call out.
undefined=$(readelf -sW "$out" | awk '$7 == "UND" && $8 != "" && $8 != ".TOC." { print $8 }')
if [ -n "$undefined" ]; then
	echo "not ok: the kernel-style object calls out to: $undefined"
	exit 1
fi
echo "ok: $* -> self-contained object"
