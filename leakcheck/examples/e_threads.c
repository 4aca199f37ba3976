/*
 * e_threads.c — four threads, each leaking 5 blocks of 1 KiB (+ its index)
 * and freeing everything else; one more block handed back through
 * pthread_join and stored globally (reachable).
 * expect: definite 20510/20 indirect 0/0
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

#define NT 4

void *g_results[NT];

static __attribute__((noinline)) void leak_some(int id)
{
	for (int i = 0; i < 5; i++) {
		char *p = malloc(1024 + (size_t)id);
		if (!p)
			exit(1);
		memset(p, id, 1024 + (size_t)id);
		keep(p);
	}
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < 1000; i++) {
		void *p = malloc((size_t)(16 + (i * 37) % 3000));
		keep(p);
		free(p);
	}
	leak_some(id);
	char *res = malloc(64);
	if (!res)
		exit(1);
	snprintf(res, 64, "thread %d", id);
	return res;
}

int main(void)
{
	pthread_t t[NT];
	for (long i = 0; i < NT; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 1;
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], &g_results[i]);
	printf("e_threads: %s .. %s\n", (char *)g_results[0], (char *)g_results[NT - 1]);
	return 0;
}
