/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/ptxn.h - the whole public API, in dependency order. Users include
 * <ptxn/ptxn.h>, which forwards here. docs/design.md explains the layers.
 */
#ifndef PTXN_CORE_PTXN_H
#define PTXN_CORE_PTXN_H

/* Lets the internal headers below check they are not included on their own. */
#define PTXN_CORE_INTERNAL 1

#include "compiler.h"
#include "select.h"
#include "version.h"
#include "types.h"
#include "mm.h"

/* Host atomics: the arch's overrides first, then the generic fill-in (CK/musl layout). */
#ifndef PTXN_FORCE_GENERIC
#if defined(PTXN_HOST_X86_64) || defined(PTXN_HOST_I386)
#include "../arch/x86/atomic.h"
#elif defined(PTXN_HOST_ARM64)
#include "../arch/arm64/atomic.h"
#elif defined(PTXN_HOST_POWERPC64)
#include "../arch/powerpc/atomic.h"
#elif defined(PTXN_HOST_RISCV64)
#include "../arch/riscv/atomic.h"
#endif
#endif
#include "../generic/atomic.h"

/* Entry format: the arch's definition, then every operation it does not override. */
#if defined(PTXN_FORMAT_X86)
#include "../arch/x86/pte.h"
#elif defined(PTXN_FORMAT_ARM64)
#include "../arch/arm64/pte.h"
#elif defined(PTXN_FORMAT_POWERPC)
#include "../arch/powerpc/pte.h"
#elif defined(PTXN_FORMAT_RISCV)
#include "../arch/riscv/pte.h"
#endif
#include "../generic/pte.h"

#include "debug.h"
#include "pte.h"
#include "steps.h"
#include "transaction.h"
#include "lazy.h"

/* Which backend this translation unit got, for logs and for the dispatch test. */
#define PTXN_BACKEND_DESCRIPTION PTXN_FORMAT_NAME " entries, " PTXN_ATOMICS_BACKEND " on " PTXN_HOST_NAME

#endif /* PTXN_CORE_PTXN_H */
