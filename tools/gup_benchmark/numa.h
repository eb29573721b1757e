/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUP_BENCHMARK_NUMA_H
#define GUP_BENCHMARK_NUMA_H

#include <stddef.h>

/* Nodes the tool tells apart; a multiple of the bits in a long. */
#define MAX_NODES	64

/* Binds [addr, addr + size) to node before it is faulted in. 0 or -errno. */
int numa_place(void *addr, size_t size, int node);
/*
 * Counts the base pages of [addr, addr + size) on each node, up to
 * max_nodes, as the kernel reports them now. 0 or -errno.
 */
int numa_where(void *addr, size_t size, long *node_pages, int max_nodes);

#endif /* GUP_BENCHMARK_NUMA_H */
