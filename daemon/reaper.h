/* SPDX-License-Identifier: MIT */
/* Freeing away from the loop: returning a large snapshot or watch plan to the allocator
 * and the kernel takes long enough to delay a question. */
#pragma once

/* Calls free_fn(p) on a detached thread at the lowest CPU weight, or here if no thread
 * can be started. p NULL does nothing. */
void reap(void (*free_fn)(void *), void *p);
