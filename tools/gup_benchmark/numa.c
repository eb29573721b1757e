// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaif.h>

#include "numa.h"

/*
 * numaif.h's syscall wrappers only: the rest of libnuma drags in code
 * that a static link warns about, for nothing this tool uses.
 */
int numa_place(void *addr, size_t size, int node)
{
	unsigned long mask[MAX_NODES / (8 * sizeof(unsigned long))] = { };
	const size_t bits = 8 * sizeof(unsigned long);

	if (node < 0 || node >= MAX_NODES)
		return -EINVAL;
	mask[node / bits] |= 1UL << (node % bits);
	/*
	 * MPOL_BIND rather than preferred: a page placed elsewhere would fail
	 * the fault instead of silently measuring another node. A node that
	 * does not exist is -EINVAL.
	 */
	if (mbind(addr, size, MPOL_BIND, mask, MAX_NODES + 1, 0))
		return -errno;
	return 0;
}

int numa_where(void *addr, size_t size, long *node_pages, int max_nodes)
{
	size_t page = getpagesize(), n = size / page, i;
	void **pages = malloc((n + 1) * sizeof(*pages));
	int *status = malloc((n + 1) * sizeof(*status));
	int err = 0;

	if (!pages || !status) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		pages[i] = (char *)addr + i * page;
	/* With no target nodes, move_pages() only says where each page is. */
	if (move_pages(0, n, pages, NULL, status, 0)) {
		err = -errno;
		goto out;
	}
	memset(node_pages, 0, max_nodes * sizeof(*node_pages));
	for (i = 0; i < n; i++)
		if (status[i] >= 0 && status[i] < max_nodes)
			node_pages[status[i]]++;
out:
	free(pages);
	free(status);
	return err;
}
