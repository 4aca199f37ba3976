/*
 * shmem.c — tmpfs pages and swap (the kernel's mm/shmem.c:
 * shmem_writepage, shmem_swapin_folio, shmem_free_swap).
 *
 * Reclaim hands an unmapped tmpfs page to shmem_writepage(): a slot is
 * allocated (none: the page is activated, as AOP_WRITEPAGE_ACTIVATE
 * makes pageout() do), the slot is held by the file (swap_shmem_alloc:
 * the model counts that hold as one reference in swap_map, where the
 * kernel writes SWAP_MAP_SHMEM), the page's bytes are written (disk:
 * pswpout, pgpgout; zram: pswpout) and the page leaves the page cache,
 * its index holding the swap entry, and is freed.
 *
 * Deterministic rules of the model (docs/kernel-model.md, "Swap"): I/O is
 * synchronous, so the page's stay in the swap cache between the write and
 * __remove_mapping() ends inside the one reclaim step, and SwapCached
 * does not show it between operations; a write that fails leaves the page
 * in the page cache (the slot goes back), where the kernel's would sit
 * redirtied in the swap cache until swapped in. Every tmpfs page reclaim
 * reaches is written: the model does not tell clean tmpfs pages from
 * dirty ones.
 *
 * Swap-in (shmem_swapin_folio) goes through the page cache's hook: the
 * slot's bytes fill a new page (pswpin; pgpgin for a disk) and the slot is
 * freed, as shmem frees the entry once the page is back
 * (delete_from_swap_cache + swap_free). There is no swap readahead.
 */
#include "swapfile.h"

enum shmem_wp shmem_writepage(ra_machine *m, uint32_t pfn)
{
	swp_entry_t e = swap_alloc_slot(m);   /* folio_alloc_swap() */
	if (!e)
		return SHMEM_WP_ACTIVATE;     /* redirty: AOP_WRITEPAGE_ACTIVATE */
	if (swap_writepage_entry(m, pfn, e)) {
		/* the fallback bio is counted, then fails (the model's rule:
		 * the page stays in the page cache, the slot goes back) */
		struct ra_swap_info *si = swp_info(m, e);
		count_vm_event(m, PSWPOUT);
		count_vm_events(m, PGPGOUT, RA_PAGE_SIZE >> 10);
		ra_log(m, "Write-error on swap-device (%u:%u:%u)", si->zram ? 252u : 0u,
		       si->zram ? zram_devno(si->zram) : si->type, swp_offset(e) << 3);
		swap_put_cache(m, e);
		return SHMEM_WP_ERROR;
	}
	swap_duplicate(m, e);                 /* swap_shmem_alloc(): the file holds the slot */
	uint64_t shadow = workingset_eviction(m, pfn);
	shmem_swapped_out(m, pfn, e);         /* shmem_delete_from_page_cache(), then freed */
	swap_put_cache(m, e);                 /* __remove_mapping(): out of the swap cache, */
	swap_store_shadow(m, e, shadow);      /* a shadow left in the slot */
	return SHMEM_WP_DONE;
}

void shmem_swapin_page(ra_machine *m, uint32_t pfn, uint64_t entry)
{
	swap_readpage(m, pfn, entry);
	swap_free(m, entry);
}

void shmem_swap_free(ra_machine *m, uint64_t entry)
{
	swap_free(m, entry);
}

void shmem_swap_peek(ra_machine *m, uint64_t entry, uint8_t *buf)
{
	swap_peek(m, entry, buf);
}
