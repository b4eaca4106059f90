/* SPDX-License-Identifier: MIT */
/* ptxn/core/version.h - the library version (kept equal to meson.build's project version). */
#ifndef PTXN_CORE_VERSION_H
#define PTXN_CORE_VERSION_H

#define PTXN_VERSION_MAJOR 0
#define PTXN_VERSION_MINOR 1
#define PTXN_VERSION_PATCH 0
#define PTXN_VERSION_STRING "0.1.0"
/* For #if comparisons: PTXN_VERSION >= PTXN_VERSION_OF(0, 1, 0). */
#define PTXN_VERSION_OF(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define PTXN_VERSION PTXN_VERSION_OF(PTXN_VERSION_MAJOR, PTXN_VERSION_MINOR, PTXN_VERSION_PATCH)

#endif /* PTXN_CORE_VERSION_H */
