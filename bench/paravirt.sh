#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/paravirt.sh [--quick] [--max N] [--json FILE] [--costs NS,NS,...]
# Build bench/paravirt.c into build/bench-paravirt (host compiler, -O2) and run it; the
# JSON rows go to build/bench-paravirt.jsonl unless --json says otherwise. Options are
# the program's (bench/paravirt.c; measured figures in docs/paravirt.md).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build"
${CC:-cc} -O2 -Wall -Wextra -pthread -I"$root/include" "$root/bench/paravirt.c" -o "$root/build/bench-paravirt"
case " $* " in
*" --json "*) exec "$root/build/bench-paravirt" "$@" ;;
*) exec "$root/build/bench-paravirt" --json "$root/build/bench-paravirt.jsonl" "$@" ;;
esac
