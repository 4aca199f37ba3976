/*
 * test_oom_host.c — the engine's oom_badness()/oom_score formula against
 * this machine's real kernel. A child process sets its oom_score_adj, then
 * reads its own /proc/self/status (RssAnon, RssFile, RssShmem, VmPTE,
 * VmSwap) and /proc/self/oom_score, and /proc/meminfo (MemTotal, SwapTotal)
 * for totalpages; the engine's formula fed those counters must give the
 * kernel's number exactly. The reads are repeated until the status and
 * score bracket a stable state (memory can move by a page between reads).
 * Skipped with a message where /proc is not readable or the adj cannot be
 * written (negative values need CAP_SYS_RESOURCE).
 */
#include "unit.h"
#include "oom.h"
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

static long field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static int slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return 0;
}

/* In the child: 0 match, 1 mismatch, 2 skip. The child first touches
 * 256 MiB so the RSS term moves the score (by about 10 points here). */
static int probe(int adj)
{
	char buf[8192], sc[64];
	size_t big = 256u << 20;
	char *mem = malloc(big);
	if (mem)
		memset(mem, 1, big);
	FILE *f = fopen("/proc/self/oom_score_adj", "w");
	if (!f || fprintf(f, "%d", adj) < 0 || fclose(f) != 0)
		return 2;
	if (slurp("/proc/meminfo", buf, sizeof(buf)))
		return 2;
	uint64_t total = (uint64_t)(field(buf, "MemTotal:") + field(buf, "SwapTotal:")) / 4;
	for (int tries = 0; tries < 20; tries++) {
		if (slurp("/proc/self/oom_score", sc, sizeof(sc)) || slurp("/proc/self/status", buf, sizeof(buf)))
			return 2;
		long kernel = strtol(sc, NULL, 10);
		long rss = field(buf, "RssAnon:") + field(buf, "RssFile:") + field(buf, "RssShmem:");
		long pte = field(buf, "VmPTE:"), swap = field(buf, "VmSwap:");
		char sc2[64];
		if (slurp("/proc/self/oom_score", sc2, sizeof(sc2)))
			return 2;
		if (strcmp(sc, sc2))
			continue;     /* moved between the reads */
		long badness = ra_oom_badness_of((uint64_t)rss / 4, (uint64_t)swap / 4, (uint64_t)pte * 1024, adj, total);
		unsigned long mine = ra_oom_score_of(badness, total);
		printf("  oom_score_adj %5d: rss %ld kB, pgtables %ld kB, totalpages %llu -> kernel %ld, engine %lu\n",
		       adj, rss, pte, (unsigned long long)total, kernel, mine);
		fflush(stdout);
		free(mem);
		return (long)mine == kernel ? 0 : 1;
	}
	return 1;
}

static void host_formula(void)
{
	static const int adjs[] = { -1000, -999, -500, -17, -1, 0, 1, 17, 333, 500, 999, 1000 };
	int matched = 0, skipped = 0;
	for (size_t i = 0; i < sizeof(adjs) / sizeof(adjs[0]); i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(probe(adjs[i]));
		int st = 0;
		waitpid(pid, &st, 0);
		int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		if (rc == 2) {
			printf("  oom_score_adj %5d: skipped (/proc not readable or adj not writable here)\n", adjs[i]);
			skipped++;
			continue;
		}
		CHECK_EQ(rc, 0);
		matched += rc == 0;
	}
	if (skipped == (int)(sizeof(adjs) / sizeof(adjs[0])))
		printf("  host formula check skipped: no usable /proc\n");
	else
		printf("  host formula: %d of %d oom_score_adj values matched the kernel, %d skipped\n",
		       matched, (int)(sizeof(adjs) / sizeof(adjs[0])), skipped);
}

/* The oom_adj <-> oom_score_adj conversions, exact as the kernel's. */
static void adj_conversion(void)
{
	CHECK_EQ(ra_oom_score_adj_from_adj(15), 1000);
	CHECK_EQ(ra_oom_score_adj_from_adj(-17), -1000);
	CHECK_EQ(ra_oom_score_adj_from_adj(0), 0);
	CHECK_EQ(ra_oom_score_adj_from_adj(1), 58);      /* 1000/17 */
	CHECK_EQ(ra_oom_score_adj_from_adj(-1), -58);
	CHECK_EQ(ra_oom_score_adj_from_adj(14), 823);    /* 14000/17 */
	CHECK_EQ(ra_oom_adj_from_score_adj(1000), 15);
	CHECK_EQ(ra_oom_adj_from_score_adj(-1000), -17);
	CHECK_EQ(ra_oom_adj_from_score_adj(58), 0);      /* 58*17/1000 */
	CHECK_EQ(ra_oom_adj_from_score_adj(999), 16);    /* 999*17/1000 = 16, as the kernel reads it */
	CHECK_EQ(ra_oom_adj_from_score_adj(-500), -8);
	/* badness and score by hand from the formulas of docs/kernel-model.md
	 * ("OOM killer"): totalpages 65536 */
	CHECK_EQ(ra_oom_badness_of(10243, 0, 27 * 4096, 0, 65536), 10270);
	CHECK_EQ(ra_oom_score_of(10270, 65536), 770);    /* (1000 + 10270000/65536) * 2/3 = 1156*2/3 */
	CHECK_EQ(ra_oom_badness_of(100, 0, 0, -1000, 65536), LONG_MIN);
	CHECK_EQ(ra_oom_badness_of(100, 0, 0, 500, 65536), 100 + 500 * 65);
	/* 100 - 500*65 = -32400; -32400000/65536 = -494 (C truncates toward zero); 506*2/3 = 337 */
	CHECK_EQ(ra_oom_score_of(ra_oom_badness_of(100, 0, 0, -500, 65536), 65536), 337);
}

static const struct unit_test tests[] = {
	{ "host_formula", host_formula },
	{ "adj_conversion", adj_conversion },
};
UNIT_MAIN("oom_host", tests)
