/* SPDX-License-Identifier: MIT */
/*
 * <ptxn/ptxn.h> - the public entry point of ptxn, page-table-entry transactions.
 *
 * This one file serves both trees: in a source checkout (or a copy in a kernel tree) it
 * sits at include/ptxn/ptxn.h beside ../../core; installed, at <prefix>/include/ptxn/ptxn.h
 * beside core/. Every other header is reached by relative paths from there.
 */
#ifndef PTXN_PTXN_H
#define PTXN_PTXN_H

#if defined(__has_include)
#if __has_include("core/ptxn.h")
#include "core/ptxn.h"
#else
#include "../../core/ptxn.h"
#endif
#else
#include "../../core/ptxn.h"
#endif

#endif /* PTXN_PTXN_H */
