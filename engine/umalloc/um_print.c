/*
 * um_print.c — statistics and their printers: mallinfo2, malloc_stats and
 * malloc_info in glibc 2.36's exact formats.  Included by umalloc.c.
 * The walks use the trusted readers of um_check.c (registry in UM_SIM).
 */

static void int_mallinfo(struct um_state *S, struct um_arena *av, struct um_mallinfo *m)
{
	uint64_t avail = av->top ? chunksize_of(ck_hdr(S, av->top)) : 0;
	uint64_t nblocks = 1, nfastblocks = 0, fastavail = 0;
	for (unsigned i = 0; i < NFASTBINS; i++) {
		uint64_t n = 0;
		for (um_addr p = av->fastbins[i]; p && n++ < (1ull << 40);
		     p = PROTECT_PTR(p + 16, ck_link(S, p, 0))) {
			nfastblocks++;
			fastavail += chunksize_of(ck_hdr(S, p));
		}
	}
	avail += fastavail;
	for (unsigned i = 1; i < NBINS; i++) {
		um_addr b = bin_at(av, i);
		for (um_addr p = ck_link(S, b, 1); p != b && p; p = ck_link(S, p, 1)) {
			nblocks++;
			avail += chunksize_of(ck_hdr(S, p));
		}
	}
	m->smblks += nfastblocks;
	m->ordblks += nblocks;
	m->fordblks += avail;
	m->uordblks += av->system_mem - avail;
	m->arena += av->system_mem;
	m->fsmblks += fastavail;
	if (av == S->main) {
		m->hblks = (size_t)S->mp.n_mmaps;
		m->hblkhd = S->mp.mmapped_mem;
		m->usmblks = 0;
		m->keepcost = av->top ? chunksize_of(ck_hdr(S, av->top)) : 0;
	}
}

struct um_mallinfo um_mallinfo(struct um_state *S)
{
	struct um_mallinfo m;
	memset(&m, 0, sizeof(m));
	struct um_arena *av = S->main;
	do {
		LOCK(S, &av->mutex);
		int_mallinfo(S, av, &m);
		UNLOCK(S, &av->mutex);
		av = av->next;
	} while (av != S->main);
	return m;
}

void um_stats(struct um_state *S, FILE *f)
{
	unsigned int in_use_b = (unsigned int)S->mp.mmapped_mem, system_b = in_use_b;
	struct um_arena *av = S->main;
	for (int i = 0;; i++) {
		struct um_mallinfo mi;
		memset(&mi, 0, sizeof(mi));
		LOCK(S, &av->mutex);
		int_mallinfo(S, av, &mi);
		UNLOCK(S, &av->mutex);
		/* printed outside the lock: the stream may allocate */
		fprintf(f, "Arena %d:\n", i);
		fprintf(f, "system bytes     = %10u\n", (unsigned int)mi.arena);
		fprintf(f, "in use bytes     = %10u\n", (unsigned int)mi.uordblks);
		system_b += (unsigned int)mi.arena;
		in_use_b += (unsigned int)mi.uordblks;
		av = av->next;
		if (av == S->main)
			break;
	}
	fprintf(f, "Total (incl. mmap):\n");
	fprintf(f, "system bytes     = %10u\n", system_b);
	fprintf(f, "in use bytes     = %10u\n", in_use_b);
	fprintf(f, "max mmap regions = %10u\n", (unsigned int)S->mp.max_n_mmaps);
	fprintf(f, "max mmap bytes   = %10lu\n", (unsigned long)S->mp.max_mmapped_mem);
}

int um_info(struct um_state *S, int options, FILE *fp)
{
	if (options != 0)
		return EINVAL;
	int n = 0;
	size_t total_nblocks = 0, total_nfastblocks = 0, total_avail = 0, total_fastavail = 0;
	size_t total_system = 0, total_max_system = 0, total_aspace = 0, total_aspace_mprotect = 0;

	fputs("<malloc version=\"1\">\n", fp);
	struct um_arena *av = S->main;
	do {
		fprintf(fp, "<heap nr=\"%d\">\n<sizes>\n", n++);
		size_t nblocks = 1, nfastblocks = 0, avail, fastavail = 0;
		struct { size_t from, to, total, count; } sizes[NFASTBINS + NBINS - 1];
		LOCK(S, &av->mutex);
		avail = av->top ? chunksize_of(ck_hdr(S, av->top)) : 0;
		for (size_t i = 0; i < NFASTBINS; i++) {
			um_addr p = av->fastbins[i];
			if (p) {
				size_t nthissize = 0, thissize = chunksize_of(ck_hdr(S, p));
				while (p && nthissize < (1u << 30)) {
					++nthissize;
					p = PROTECT_PTR(p + 16, ck_link(S, p, 0));
				}
				fastavail += nthissize * thissize;
				nfastblocks += nthissize;
				sizes[i].from = thissize - (MALLOC_ALIGNMENT - 1);
				sizes[i].to = thissize;
				sizes[i].count = nthissize;
			} else {
				sizes[i].from = sizes[i].to = sizes[i].count = 0;
			}
			sizes[i].total = sizes[i].count * sizes[i].to;
		}
		for (size_t i = 1; i < NBINS; i++) {
			um_addr bin = bin_at(av, (unsigned)i);
			um_addr r = ck_link(S, bin, 0);
			size_t k = NFASTBINS - 1 + i;
			sizes[k].from = ~(size_t)0;
			sizes[k].to = sizes[k].total = sizes[k].count = 0;
			if (r != 0)
				while (r != bin && r) {
					size_t r_size = ck_hdr(S, r);      /* chunksize_nomask, as glibc */
					++sizes[k].count;
					sizes[k].total += r_size;
					if (r_size < sizes[k].from)
						sizes[k].from = r_size;
					if (r_size > sizes[k].to)
						sizes[k].to = r_size;
					r = ck_link(S, r, 0);
				}
			if (sizes[k].count == 0)
				sizes[k].from = 0;
			nblocks += sizes[k].count;
			avail += sizes[k].total;
		}
		size_t heap_size = 0, heap_mprotect_size = 0, heap_count = 0;
		if (av != S->main) {
			for (struct um_heap *h = av->heap; h; h = h->prev) {
				heap_size += h->size;
				heap_mprotect_size += h->mprotect_size;
				++heap_count;
			}
		}
		UNLOCK(S, &av->mutex);
		total_nfastblocks += nfastblocks;
		total_fastavail += fastavail;
		total_nblocks += nblocks;
		total_avail += avail;
		for (size_t i = 0; i < NFASTBINS + NBINS - 1; i++)
			if (sizes[i].count != 0 && i != NFASTBINS)
				fprintf(fp, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
				        sizes[i].from, sizes[i].to, sizes[i].total, sizes[i].count);
		if (sizes[NFASTBINS].count != 0)
			fprintf(fp, "  <unsorted from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
			        sizes[NFASTBINS].from, sizes[NFASTBINS].to,
			        sizes[NFASTBINS].total, sizes[NFASTBINS].count);
		total_system += av->system_mem;
		total_max_system += av->max_system_mem;
		fprintf(fp,
		        "</sizes>\n<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
		        "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
		        "<system type=\"current\" size=\"%zu\"/>\n"
		        "<system type=\"max\" size=\"%zu\"/>\n",
		        nfastblocks, fastavail, nblocks, avail,
		        (size_t)av->system_mem, (size_t)av->max_system_mem);
		if (av != S->main) {
			fprintf(fp,
			        "<aspace type=\"total\" size=\"%zu\"/>\n"
			        "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
			        "<aspace type=\"subheaps\" size=\"%zu\"/>\n",
			        heap_size, heap_mprotect_size, heap_count);
			total_aspace += heap_size;
			total_aspace_mprotect += heap_mprotect_size;
		} else {
			fprintf(fp,
			        "<aspace type=\"total\" size=\"%zu\"/>\n"
			        "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
			        (size_t)av->system_mem, (size_t)av->system_mem);
			total_aspace += av->system_mem;
			total_aspace_mprotect += av->system_mem;
		}
		fputs("</heap>\n", fp);
		av = av->next;
	} while (av != S->main);
	fprintf(fp,
	        "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
	        "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
	        "<total type=\"mmap\" count=\"%d\" size=\"%zu\"/>\n"
	        "<system type=\"current\" size=\"%zu\"/>\n"
	        "<system type=\"max\" size=\"%zu\"/>\n"
	        "<aspace type=\"total\" size=\"%zu\"/>\n"
	        "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
	        "</malloc>\n",
	        total_nfastblocks, total_fastavail, total_nblocks, total_avail,
	        S->mp.n_mmaps, (size_t)S->mp.mmapped_mem,
	        total_system, total_max_system, total_aspace, total_aspace_mprotect);
	return 0;
}

void um_get_stat(struct um_state *S, struct um_stat *out)
{
	memset(out, 0, sizeof(*out));
	struct um_mallinfo mi = um_mallinfo(S);
	struct um_arena *av = S->main;
	do {
		out->system_bytes += av->system_mem;
		out->max_system_bytes += av->max_system_mem;
		out->narenas++;
		av = av->next;
	} while (av != S->main);
	out->inuse_bytes = mi.uordblks + S->mp.mmapped_mem;
	out->mmapped_regions = (uint64_t)S->mp.n_mmaps;
	out->mmapped_bytes = S->mp.mmapped_mem;
	out->max_mmapped_regions = (uint64_t)S->mp.max_n_mmaps;
	out->max_mmapped_bytes = S->mp.max_mmapped_mem;
	for (size_t i = 0; i < S->reg.cap; i++) {
		struct um_rent *e = &S->reg.tab[i];
		if (e->addr && e->state == RS_LIVE) {
			out->live_chunks++;
			out->live_bytes += chunksize_of(e->hdr);
		}
	}
}

static int walk_cmp(const void *a, const void *b)
{
	const struct um_chunk_info *x = a, *y = b;
	return x->mem < y->mem ? -1 : x->mem > y->mem;
}

int um_walk(struct um_state *S, int (*fn)(void *arg, const struct um_chunk_info *ci), void *arg)
{
#ifdef UM_HOST
	pthread_mutex_lock(&S->reg_lock);
#endif
	size_t n = 0;
	for (size_t i = 0; i < S->reg.cap; i++)
		if (S->reg.tab[i].addr && S->reg.tab[i].state == RS_LIVE)
			n++;
	size_t alloc = (n + 1) * sizeof(struct um_chunk_info);
	struct um_chunk_info *v = um_os_meta_alloc(S->os, alloc);
	int rc = 0;
	if (v) {
		size_t k = 0;
		for (size_t i = 0; i < S->reg.cap; i++) {
			struct um_rent *e = &S->reg.tab[i];
			if (!e->addr || e->state != RS_LIVE)
				continue;
			struct um_chunk_info *ci = &v[k++];
			ci->mem = e->addr + CHUNK_HDR_SZ;
			ci->chunk_size = chunksize_of(e->hdr);
			ci->mmapped = (e->hdr & IS_MMAPPED) != 0;
			ci->usable = ci->chunk_size - (ci->mmapped ? CHUNK_HDR_SZ : SIZE_SZ);
			ci->req = e->req;
			ci->tag = e->tag;
			ci->arena = ci->mmapped ? -1 : (e->hdr & NON_MAIN_ARENA) ? (int)e->arena : 0;
#ifdef UM_SIM
			ci->arena = e->arena == UM_NO_ARENA ? -1 : (int)e->arena;
#endif
		}
		qsort(v, k, sizeof(*v), walk_cmp);
		for (size_t i = 0; i < k && rc == 0; i++)
			rc = fn(arg, &v[i]);
		um_os_meta_free(S->os, v, alloc);
	}
#ifdef UM_HOST
	pthread_mutex_unlock(&S->reg_lock);
#endif
	return rc;
}
