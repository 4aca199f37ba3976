/*
 * um_os.h — the OS-primitive contract umalloc is written against.
 *
 * umalloc reaches memory only through the functions below, so the same
 * source compiles into two worlds:
 *
 *   UM_HOST  the real process: addresses are real pointers, the accessors
 *            are plain loads/stores and the primitives are real syscalls
 *            (um_host.h, static inline where it matters for speed).
 *   UM_SIM   a simulated task of the refalloc engine: addresses are simulated
 *            user addresses backed page by page by the engine's mm, NOT
 *            contiguous in host memory; every access goes through the
 *            accessors, which is how the engine counts faults and RSS
 *            (um_sim.h: extern functions implemented by the engine; the
 *            tests use a fake in tests/um_fake.c).
 *
 * Exactly one of UM_HOST / UM_SIM must be defined by whoever compiles
 * umalloc.  umalloc itself never dereferences a um_addr.
 *
 * Contract (both worlds)
 * ----------------------
 * Types.  um_addr is a user address (uint64_t), 0 is NULL.  struct um_os is
 * opaque to umalloc: one per process (task) whose malloc umalloc models.
 *
 * Memory access.  umalloc only accesses addresses inside regions it obtained
 * from um_os_brk / um_os_mmap (and made accessible) and has not released.
 *   um_os_load64 / um_os_store64: addr is 8-byte aligned; one 8-byte word.
 *   um_os_fill: memset semantics over [addr, addr+len).
 *   um_os_copy: memmove semantics, both ranges inside umalloc's regions.
 *   um_os_cmpbyte: returns how many leading bytes of [addr, addr+len) equal
 *     byte (len when all do).  Used by checks and tests; reads only.
 * A backend must survive an access to an address that is no longer mapped
 * (a trace may unmap malloc memory behind umalloc's back) or whose fault it
 * cannot serve: loads then return 0, stores are dropped, and the backend
 * reports the fault itself.  umalloc never does this on its own.  The
 * engine's back end then ends the task, as the kernel would (SIGSEGV,
 * SIGBUS), and silences um_os_report for the rest of the call.
 *
 * Reads of never-written pages must not make them resident (zero page);
 * writes make a page resident.  umalloc only writes what glibc writes.
 *
 * um_os_brk(os, delta): sbrk semantics.  delta == 0 returns the current
 *   break.  delta > 0 extends the main heap, the new bytes read as zero;
 *   delta < 0 shrinks it (the pages above the new break are freed).
 *   Returns the break before the call, or UM_BRK_FAIL (and nothing changed).
 *   The break may move between calls (foreign sbrk); umalloc copes as glibc.
 * um_os_mmap(os, len, prot, flags): anonymous private mapping, len a
 *   multiple of the page size; returns a page-aligned address or 0 on
 *   failure.  prot is UM_PROT_* (UM_PROT_NONE reserves address space);
 *   UM_MAP_NORESERVE as MAP_NORESERVE.  Contents read as zero.
 * um_os_munmap(os, addr, len): addr page-aligned, any sub-range of earlier
 *   mappings (partial unmaps must work: new_heap trims its alignment slop).
 *   0, or -1 on failure.
 * um_os_mprotect(os, addr, len, prot): 0 or -1; used to grow arena heaps.
 * um_os_mremap(os, addr, oldlen, newlen): MREMAP_MAYMOVE semantics;
 *   returns the new address or 0 when it fails or the backend has none
 *   (umalloc then falls back to malloc-copy-free, as glibc does).
 * um_os_release(os, addr, len): MADV_DONTNEED: page-aligned range inside a
 *   mapping; the pages stop being resident and read back as zero.  0/-1.
 * um_os_pagesize / um_os_ncpus: constants for the life of os (ncpus >= 1).
 * um_os_report(os, cls, addr, msg): misuse or corruption was detected.
 *   cls is "double-free", "invalid-free" or "heap-corruption"; addr the user
 *   pointer concerned; msg glibc's own text ("free(): invalid pointer").
 *   UM_SIM: turn it into the engine's "BUG: refalloc: <cls> ..." report and
 *   return; umalloc then refuses the operation and stays usable.
 *   UM_HOST: print msg as glibc does and abort(); never returns.
 * um_os_meta_alloc / um_os_meta_free: host-side bookkeeping memory for
 *   umalloc's own state (arenas, registry), zero-filled, NULL on failure.
 *   It is not memory of the modelled process: UM_SIM uses the host's
 *   calloc/free, UM_HOST uses mmap (it must not call malloc).
 */
#ifndef UM_OS_H
#define UM_OS_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t um_addr;
struct um_os;

#define UM_PROT_NONE   0
#define UM_PROT_READ   1
#define UM_PROT_WRITE  2
#define UM_PROT_RW     (UM_PROT_READ | UM_PROT_WRITE)
#define UM_MAP_NORESERVE 1u
#define UM_BRK_FAIL    ((um_addr)-1)

#if defined(UM_HOST) && defined(UM_SIM)
#error "define only one of UM_HOST and UM_SIM"
#elif defined(UM_HOST)
#include "um_host.h"
#elif defined(UM_SIM)
#include "um_sim.h"
#else
#error "define UM_HOST or UM_SIM to say which world umalloc is built for"
#endif

#endif /* UM_OS_H */
