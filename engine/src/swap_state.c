/*
 * swap_state.c — the swap cache (mm/swap_state.c) and swap I/O
 * (mm/page_io.c).
 *
 * The swap cache maps a slot to the page that holds its contents in RAM.
 * A page in it has PG_swapcache and its entry in ra_page.priv; it counts in
 * nr_swapcached (SwapCached) and, as add_to_swap_cache() does, in
 * nr_file_pages (meminfo's Cached subtracts it again).
 *
 * I/O is synchronous and its bytes are real: a disk slot keeps a host copy
 * of the page; a zram slot is kept by zram.c. A disk write counts pswpout
 * and pgpgout +4 (one 4 KiB bio, in KiB), a read pswpin and pgpgin +4; zram
 * in 6.1 goes through rw_page, no bio: pswpin/pswpout only.
 */
#include "swapfile.h"
#include "san.h"

uint32_t swap_cache_lookup(ra_machine *m, swp_entry_t e)
{
	struct ra_swap_info *si = swp_info(m, e);
	if (!si || swp_offset(e) > si->pages)
		return RA_NOPFN;
	return si->cache[swp_offset(e)] - 1;
}

void add_to_swap_cache(ra_machine *m, uint32_t pfn, swp_entry_t e)
{
	struct ra_swap_info *si = swp_info(m, e);
	struct ra_page *p = pfn_page(m, pfn);
	uint32_t off = swp_offset(e);
	RA_BUG_ON(m, !si || !(si->map[off] & SWAP_HAS_CACHE) || si->cache[off] || (p->flags & PGF_SWAPCACHE));
	si->cache[off] = pfn + 1;
	p->flags |= PGF_SWAPCACHE;
	p->priv = swp_type(e) << SWP_OFFSET_BITS | off;
	mod_node_page_state(m, NR_SWAPCACHE, 1);
	mod_node_page_state(m, NR_FILE_PAGES, 1);
}

void delete_from_swap_cache(ra_machine *m, uint32_t pfn)
{
	struct ra_page *p = pfn_page(m, pfn);
	RA_BUG_ON(m, !(p->flags & PGF_SWAPCACHE));
	swp_entry_t e = page_swp_entry(p);
	struct ra_swap_info *si = swp_info(m, e);
	RA_BUG_ON(m, !si || si->cache[swp_offset(e)] != pfn + 1);
	si->cache[swp_offset(e)] = 0;
	p->flags &= (uint16_t)~PGF_SWAPCACHE;
	p->priv = 0;
	mod_node_page_state(m, NR_SWAPCACHE, -1);
	mod_node_page_state(m, NR_FILE_PAGES, -1);
	swap_put_cache(m, e);
}

int swap_writepage(ra_machine *m, uint32_t pfn)
{
	return swap_writepage_entry(m, pfn, page_swp_entry(pfn_page(m, pfn)));
}

int swap_writepage_entry(ra_machine *m, uint32_t pfn, swp_entry_t e)
{
	struct ra_swap_info *si = swp_info(m, e);
	uint32_t off = swp_offset(e);
	RA_BUG_ON(m, !si);
	if (ra_should_fail(m, FAIL_SWAP_WRITE, 0))
		return -1;
	const uint8_t *src = pfn_host(m, pfn);
	if (si->zram) {
		if (zram_write(m, si->zram, off, src))
			return -1;
	} else {
		if (!si->data[off]) {
			si->data[off] = malloc(RA_PAGE_SIZE);
			RA_BUG_ON(m, !si->data[off]);
		}
		ra_raw_copy(si->data[off], src, RA_PAGE_SIZE);
		count_vm_events(m, PGPGOUT, RA_PAGE_SIZE >> 10);
	}
	count_vm_event(m, PSWPOUT);
	mod_node_page_state(m, NR_WRITTEN, 1);   /* __folio_end_writeback() */
	return 0;
}

void swap_peek(ra_machine *m, swp_entry_t e, uint8_t *buf)
{
	struct ra_swap_info *si = swp_info(m, e);
	uint32_t off = swp_offset(e);
	RA_BUG_ON(m, !si);
	/* buf may be a page of RAM the sanitizers were told about: raw
	 * accesses */
	if (si->zram)
		zram_read(m, si->zram, off, buf);
	else if (si->data[off])
		ra_raw_copy(buf, si->data[off], RA_PAGE_SIZE);
	else
		ra_raw_fill(buf, 0, RA_PAGE_SIZE);
}

uint8_t *swap_peek_page(ra_machine *m, swp_entry_t e)
{
	uint32_t pfn = swap_cache_lookup(m, e);
	if (pfn != RA_NOPFN)
		return m->ram + ((size_t)pfn << RA_PAGE_SHIFT);
	swap_peek(m, e, m->swp->peek);
	return m->swp->peek;
}

void swap_store_shadow(ra_machine *m, swp_entry_t e, uint64_t shadow)
{
	struct ra_swap_info *si = swp_info(m, e);
	if (si && si->map[swp_offset(e)] && !si->cache[swp_offset(e)])
		pcm_put(&si->shadows, swp_offset(e), shadow);
}

/* The slot's shadow, taken out: add_to_swap_cache() replaces it (or, for
 * zram's bypass, get_shadow_from_swap_cache() and the slot's free). The
 * page may be on the LRU already (tmpfs): it moves to the list the
 * refault says. */
static void swap_refault(ra_machine *m, uint32_t pfn, struct ra_swap_info *si, uint32_t off)
{
	uint64_t *v = pcm_find(&si->shadows, off);
	if (!v)
		return;
	uint64_t shadow = *v;
	pcm_del(&si->shadows, off);
	struct ra_page *p = pfn_page(m, pfn);
	bool on_lru = p->flags & PGF_LRU;
	if (on_lru)
		lru_del(m, pfn);
	workingset_refault(m, pfn, shadow, false, swap_available(m));
	if (on_lru)
		lru_add(m, pfn, page_lru(p));
}

void swap_readpage(ra_machine *m, uint32_t pfn, swp_entry_t e)
{
	struct ra_swap_info *si = swp_info(m, e);
	RA_BUG_ON(m, !si);
	uint8_t *dst = pfn_host(m, pfn);
	swap_peek(m, e, dst);
	pfn_page(m, pfn)->flags &= (uint16_t)~PGF_ZEROED;
	if (!si->zram)
		count_vm_events(m, PGPGIN, RA_PAGE_SIZE >> 10);
	count_vm_event(m, PSWPIN);
	if (si->shadows.n)
		swap_refault(m, pfn, si, swp_offset(e));
}

void swap_slot_discard(ra_machine *m, struct ra_swap_info *si, uint32_t off)
{
	if (si->zram) {
		zram_free(m, si->zram, off);
		return;
	}
	free(si->data[off]);
	si->data[off] = NULL;
}
