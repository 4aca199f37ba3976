/*
 * page_writeback.c — the simulated clock and the flusher (the kernel's
 * fs/fs-writeback.c wb_workfn and the background half of
 * mm/page-writeback.c), docs/kernel-model.md "Dirty limits and writeback".
 *
 * The clock: m->now_ms, milliseconds since boot. Operations cost no time
 * (so every trace without `sleep` runs as it always did); only `sleep MS`
 * moves it. The deterministic rules of a sleep from t to t + MS:
 *
 *   1. The flusher first does background writeback if nr_dirty is above
 *      the background threshold: a writer past it has woken the flusher
 *      (balance_dirty_pages), which runs as soon as the writer lets time
 *      pass.
 *   2. Then, for each periodic deadline d = last + dirty_writeback_interval
 *      in (t, t + MS], in order: the clock reads d, the kupdate pass
 *      writes every file dirty since d - dirty_expire_interval or before
 *      (wb_check_old_data_flush), then background writeback again
 *      (wb_check_background_flush). The first deadline is one interval
 *      after boot; an interval of 0 disables the periodic pass.
 *   3. The clock reads t + MS.
 *
 * kswapd needs no timer: it runs when the operation that woke it ends.
 *
 * Expiry is per file, as the kernel tracks it per inode: dirtied_when is
 * set when a clean file gets its first dirty page, and pages dirtied
 * later go out with it. A file is written whole (every dirty page, in
 * index order, synchronously: nr_written, pgpgout). Files go in the order
 * of dirtied_when, oldest first (the b_io queue), ties by file id.
 * Background writeback stops, between files, once nr_dirty is at or
 * below the background threshold.
 */
#include "filemap.h"

/* The dirty file that went dirty first (ties: lowest id) with
 * dirtied_when <= before, or NULL. */
static struct ra_file *oldest_dirty(ra_machine *m, uint64_t before)
{
	struct ra_file *best = NULL;
	if (!m->fm)
		return NULL;
	for (uint32_t i = 0; i < m->fm->nr_files; i++) {
		struct ra_file *f = m->fm->files[i];
		if (!f || f->shmem || !f->nrdirty || f->dirtied_when > before)
			continue;
		if (!best || f->dirtied_when < best->dirtied_when)
			best = f;
	}
	return best;
}

uint64_t wb_background_flush(ra_machine *m)
{
	uint64_t written = 0;
	for (;;) {
		uint64_t bg, thresh;
		global_dirty_limits(m, &bg, &thresh);
		if (node_page_state(m, NR_FILE_DIRTY) <= bg)
			break;
		struct ra_file *f = oldest_dirty(m, UINT64_MAX);
		if (!f)
			break;
		written += ra_file_fsync(m, f);
	}
	return written;
}

uint64_t wb_old_data_flush(ra_machine *m)
{
	uint64_t expire = (uint64_t)KNOB(m, VM_DIRTY_EXPIRE_CENTISECS) * 10, written = 0;
	if (m->now_ms < expire)
		return 0;
	struct ra_file *f;
	while ((f = oldest_dirty(m, m->now_ms - expire)) != NULL)
		written += ra_file_fsync(m, f);
	return written;
}

/* balance_dirty_pages(), the model's deterministic rule, once per write(2)
 * that dirtied pages, after it: below the free-run ceiling (thresh +
 * bg_thresh) / 2 nothing happens. Above it the writer is throttled
 * (ra_dirty_throttle) for a pause counted in ra_dirty_pause_ms: 200 ms
 * (MAX_PAUSE) at or above thresh, else 1000 × pages / task_ratelimit ms
 * rounded up, at most 200, where task_ratelimit = 25600 pages/s (INIT_BW)
 * × pos_ratio / 1024 and pos_ratio is the global pos_ratio_polynom() (one
 * device: no wb part). The pause is counted, not slept: the clock moves
 * only by `sleep`, and the flusher does the writing there. */
void balance_dirty_pages(ra_machine *m, uint64_t pages)
{
	uint64_t bg, thresh, dirty = node_page_state(m, NR_FILE_DIRTY);
	global_dirty_limits(m, &bg, &thresh);
	uint64_t freerun = (thresh + bg) / 2;
	if (!pages || dirty <= freerun)
		return;
	uint64_t pause = 200;
	if (dirty < thresh) {
		int64_t setpoint = (int64_t)(freerun + thresh) / 2;
		int64_t x = (setpoint - (int64_t)dirty) * 1024 / (((int64_t)thresh - setpoint) | 1);
		int64_t t = ((x * x) >> 10) * x;
		int64_t pos = 1024 + (t >= 0 ? t >> 10 : -((-t + 1023) >> 10));   /* an arithmetic shift */
		pos = RA_MAX(RA_MIN(pos, (int64_t)2048), (int64_t)0);
		uint64_t rate = 25600 * (uint64_t)pos / 1024;
		if (rate)
			pause = RA_MIN((1000 * pages + rate - 1) / rate, (uint64_t)200);
	}
	count_vm_event(m, DIRTY_THROTTLE);
	count_vm_events(m, DIRTY_PAUSE_MS, pause);
}

void ra_sleep(ra_machine *m, uint64_t ms)
{
	uint64_t target = m->now_ms + ms;
	uint64_t interval = (uint64_t)KNOB(m, VM_DIRTY_WRITEBACK_CENTISECS) * 10;
	wb_background_flush(m);
	while (interval && m->wb_last_flush + interval <= target) {
		if (!node_page_state(m, NR_FILE_DIRTY)) {
			/* nothing to write: the passes up to target find nothing */
			m->wb_last_flush += (target - m->wb_last_flush) / interval * interval;
			break;
		}
		m->now_ms = m->wb_last_flush += interval;
		wb_old_data_flush(m);
		wb_background_flush(m);
	}
	m->now_ms = target;
}
