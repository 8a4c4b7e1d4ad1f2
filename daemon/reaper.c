/* SPDX-License-Identifier: MIT */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "reaper.h"

struct job {
	void (*free_fn)(void *);
	void *p;
};

static void *run(void *arg)
{
	struct job j = *(struct job *)arg;

	free(arg);
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	j.free_fn(j.p);
	/* sort what was freed into the allocator's bins here, not in the loop's next malloc */
	(void)malloc_trim(0);
	return NULL;
}

void reap(void (*free_fn)(void *), void *p)
{
	struct job *j;
	pthread_attr_t attr;
	pthread_t t;

	if (!p)
		return;
	j = malloc(sizeof(*j));
	if (j && pthread_attr_init(&attr) == 0) {
		*j = (struct job){free_fn, p};
		if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		    pthread_create(&t, &attr, run, j) == 0) {
			pthread_attr_destroy(&attr);
			return;
		}
		pthread_attr_destroy(&attr);
	}
	free(j);
	free_fn(p);
}
