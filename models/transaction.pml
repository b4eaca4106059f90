/* SPDX-License-Identifier: MIT */
/*
 * ptxn transaction protocols against the hardware's A/D rule, for Spin.
 *
 * One page-table entry, one software thread running transactions exactly as
 * core/transaction.h does (under its PTE lock, so the only other writer is the MMU), one
 * MMU applying the architectural rule of docs/hwemu.md: read the entry single-copy-
 * atomically; if it is valid, set A (and D for a permitted write) with a compare-and-swap
 * against the value it read, restarting the walk if the entry changed; never write an
 * invalid entry. Bits: V valid, W writable, A accessed, D dirty, S x86 SavedDirty (the
 * dirtiness of a read-only entry under CET).
 *
 * Property (the library's promise): no A/D update is lost and none is invented. For each
 * of young (A) and dirty (D|S), counted over the whole run:
 *     initial + hardware_sets + software_sets == software_cleans + final
 * where a software clean is a transaction whose start returned the bit set and whose
 * caller-computed new entry lacks it (the caller saw the bit and chose to drop it).
 *
 * Build with -DSTRATEGY=CLEAR|MERGE|AUTO|UNSAFE; UNSAFE (plain load, plain store) must be
 * refuted. -DSTALE_TLB adds the pre-CET x86 behaviour of SDM Vol. 3A 4.8: a write through a
 * cached writable translation whose D was clear sets D in the entry in memory without
 * re-checking R/W. Under it, AUTO's rule (only A=1 and D=1 is final) must still hold, and
 * the tempting rule "A=1 and read-only is final" (-DSTRATEGY=AUTO_RO) must be refuted:
 * that is why generic/pte.h has PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY = 0 for x86. Without
 * STALE_TLB (CET hardware) AUTO_RO verifies: it is AUTO in an mm flagged PTXN_MM_X86_CET.
 * With STALE_TLB and -DFLUSH_WRPROTECT (the caller flushes every write-protection before
 * the entry's next transaction: PTXN_MM_WRPROTECT_FLUSHED) AUTO_RO verifies too.
 * RISC-V: Svadu's update is the rule above with no stale TLB (step 7 compares and sets
 * atomically against the entry in memory and walks again if it changed), so the rows
 * without STALE_TLB are Svadu's, and AUTO_RO there is RISC-V's quiescent rule (A=1 and,
 * if writable, D=1: arch/riscv/pte.h). -DSVADE is Svade: the MMU never writes the entry.
 * Under PTXN_MM_RISCV_SVADE AUTO takes every entry as final, a plain load and a plain
 * store: UNSAFE's protocol, which must verify with SVADE and is refuted without it (the
 * promise made on Svadu hardware).
 * models/check runs every combination and expects exactly these verdicts.
 */

#define V 1
#define W 2
#define A 4
#define D 8
#define S 16

#define CLEAR 1
#define MERGE 2
#define AUTO 3
#define UNSAFE 4
#define AUTO_RO 5

#ifndef STRATEGY
#define STRATEGY MERGE
#endif
#ifndef TXNS
#define TXNS 3
#endif
#ifndef ACCESSES
#define ACCESSES 3
#endif

#define DIRTY(x) (((x) & (D | S)) != 0)
#define YOUNG(x) (((x) & A) != 0)

#define INITIAL (V | W)
byte entry = INITIAL;         /* present, writable, old, clean */

byte hw_young = 0, hw_dirty = 0;
#ifdef STALE_TLB
byte tlb = 0;          /* the MMU's cached translation, from its last successful walk (0: none) */
bool accessing = false; /* an access is under way: a TLB flush (an IPI) waits for its end */
#endif
byte sw_clean_young = 0, sw_clean_dirty = 0, sw_set_young = 0, sw_set_dirty = 0;
bool mmu_done = false, sw_done = false;

/* The MMU: one access per round, read or write, on a single-copy-atomic view. */
active proctype mmu()
{
	byte seen, want, n = 0;
	bool write;
	do
	:: n < ACCESSES ->
		if
		:: write = true
		:: write = false
		fi;
#ifdef STALE_TLB
		accessing = true;
		if
		:: tlb != 0 && write && (tlb & W) && (tlb & D) == 0 ->
			/* write through the cached translation: set D in memory, R/W unchecked */
			atomic {
				if
				:: (entry & V) && (entry & D) == 0 ->
					if
					:: !DIRTY(entry) -> hw_dirty++
					:: else -> skip
					fi;
					entry = entry | D
				:: else -> skip
				fi
			};
			tlb = tlb | D;
			goto done
		:: tlb != 0 && (!write || (tlb & D)) -> goto done /* TLB hit, nothing to set */
		:: true -> skip                                  /* miss, or chose to walk */
		fi;
#endif
walk:
		seen = entry;
		if
		:: (seen & V) == 0 -> skip        /* fault: the access retries or gives up */
		:: (seen & V) != 0 && write && (seen & W) == 0 -> skip /* protection fault */
		:: else ->
			want = seen | A;
			if
			:: write -> want = want | D   /* permitted write: D on the leaf */
			:: else -> skip
			fi;
			if
			:: want == seen -> skip       /* nothing left to set: no write at all */
#ifdef SVADE
			/* RISC-V Svade (priv. spec 20211203, 4.3.2 step 7): a page fault instead of
			 * the update. Software sets A/D in the fault handler under the PTE lock, so
			 * that is a transaction of the software side, not a second writer. */
			:: else -> want = seen
#else
			:: else ->
				atomic {
					if
					:: entry == seen ->
						entry = want;
						if
						:: !YOUNG(seen) -> hw_young++
						:: else -> skip
						fi;
						if
						:: (want & D) && !DIRTY(seen) -> hw_dirty++
						:: else -> skip
						fi
					:: else -> goto walk /* entry changed: restart the walk */
					fi
				}
#endif
			fi;
#ifdef STALE_TLB
			tlb = want
#else
			skip
#endif
		fi;
done:
#ifdef STALE_TLB
		accessing = false;
#endif
		n++
	:: else -> break
	od;
	mmu_done = true
}

/* x86 dirty placement (generic/pte.h mkdirty): writable -> D, read-only -> S. */
inline mkdirty(x)
{
	if
	:: (x & W) -> x = (x & ~S) | D
	:: else -> x = x | S
	fi
}

/* The caller's change: any of protection flip (with SavedDirty moves), clean, age. */
inline compute(old, new)
{
	new = old;
	if
	:: (new & W) -> /* wrprotect: D moves to S */
		if
		:: (new & D) -> new = (new & ~D) | S
		:: else -> skip
		fi;
		new = new & ~W
	:: (new & W) == 0 -> /* mkwrite: S moves back to D */
		new = new | W;
		if
		:: (new & S) -> new = (new & ~S) | D
		:: else -> skip
		fi
	:: new = new & ~(D | S)   /* mkclean */
	:: new = new & ~A         /* mkold */
	:: skip
	fi
}

/* What the hardware added between start and now, folded into next (merge_hw). */
inline merge_hw(nx, start, now)
{
	if
	:: YOUNG(now) && !YOUNG(start) -> nx = nx | A
	:: else -> skip
	fi;
	if
	:: (now & D) && !(start & D) -> mkdirty(nx)
	:: else -> skip
	fi
}

inline account(old, new)
{
	if
	:: YOUNG(old) && !YOUNG(new) -> sw_clean_young++
	:: !YOUNG(old) && YOUNG(new) -> sw_set_young++
	:: else -> skip
	fi;
	if
	:: DIRTY(old) && !DIRTY(new) -> sw_clean_dirty++
	:: !DIRTY(old) && DIRTY(new) -> sw_set_dirty++
	:: else -> skip
	fi
}

active proctype software()
{
	byte old, new, expected, desired, k = 0;
	do
	:: k < TXNS ->
#if STRATEGY == CLEAR
		atomic { old = entry; entry = 0 }  /* start: exchange with zero */
		compute(old, new);
		account(old, new);
		entry = new                        /* commit: plain store */
#elif STRATEGY == UNSAFE
		old = entry;                       /* plain load ... */
		compute(old, new);
		account(old, new);
		entry = new                        /* ... plain store: the negative control */
#else
		old = entry;                       /* start: a load */
		compute(old, new);
		account(old, new);
		if
		:: new == old -> skip              /* unchanged: nothing to write */
#if STRATEGY == AUTO
		:: new != old && (old & A) && (old & D) ->
			entry = new                /* quiescent: the MMU cannot write it */
		:: new != old && !((old & A) && (old & D)) ->
#elif STRATEGY == AUTO_RO
		:: new != old && (old & A) && ((old & D) || (old & W) == 0) ->
			entry = new                /* WRONG on x86: read-only is not final */
		:: new != old && !((old & A) && ((old & D) || (old & W) == 0)) ->
#else
		:: new != old ->
#endif
			expected = old;
			desired = new;
			do
			:: atomic {
				if
				:: entry == expected -> entry = desired; break
				:: else -> expected = entry
				fi
			   };
			   desired = new;
			   merge_hw(desired, old, expected)
			od
		fi
#endif
		;
#if defined(FLUSH_WRPROTECT) && defined(STALE_TLB)
		/* PTXN_MM_WRPROTECT_FLUSHED: the caller flushes a write-protection before the
		 * entry's next transaction; the flush waits for an access under way to end. */
		if
		:: (old & W) && (new & W) == 0 -> atomic { !accessing -> tlb = 0 }
		:: else -> skip
		fi;
#endif
		k++
	:: else -> break
	od;
	sw_done = true
}

/* At the end, every update is accounted for. */
active proctype checker()
{
	(mmu_done && sw_done);
	assert(YOUNG(INITIAL) + hw_young + sw_set_young == sw_clean_young + YOUNG(entry));
	assert(DIRTY(INITIAL) + hw_dirty + sw_set_dirty == sw_clean_dirty + DIRTY(entry));
#ifndef STALE_TLB
	/* Software never leaves a shadow-stack encoding (read-only and D) behind. (Pre-CET
	 * hardware may, through a stale TLB entry: it has no shadow stacks.) */
	assert(!((entry & V) && (entry & W) == 0 && (entry & D)))
#endif
}
