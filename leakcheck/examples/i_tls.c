/*
 * i_tls.c — blocks held by the main thread's TLS and by a pthread key
 * value are still reachable; blocks a finished thread held in its TLS are
 * lost (its TLS is gone, in both tools' view).
 * expect: definite 300/3 indirect 0/0
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"

static __thread char *t_buf;
static pthread_key_t g_key;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		t_buf = malloc(100);    /* the previous one is lost, and the last */
		if (!t_buf)
			exit(1);
		memset(t_buf, i, 100);
		keep(t_buf);
	}
	return NULL;
}

int main(void)
{
	t_buf = malloc(500);
	if (!t_buf || pthread_key_create(&g_key, NULL) != 0)
		return 1;
	memset(t_buf, 9, 500);
	char *v = malloc(700);
	if (!v)
		return 1;
	memset(v, 8, 700);
	keep(v);
	pthread_setspecific(g_key, v);
	v = NULL;
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	printf("i_tls: %d %d\n", t_buf[0], ((char *)pthread_getspecific(g_key))[0]);
	return 0;
}
