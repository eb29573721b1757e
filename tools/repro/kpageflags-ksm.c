// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kpageflags sets KPF_KSM for an anonymous page that KSM never
 * merged. One private anonymous page, written, its pfn from
 * /proc/self/pagemap, its flags from /proc/kpageflags; no KSM involved.
 * Run it as root (pagemap hides pfns otherwise), on the host or in a
 * guest (make repro builds it into build/repro/):
 *
 *   tools/vm/run --kdir KDIR --add build/repro -- build/repro/kpageflags-ksm
 *
 * Prints the page's KPF_ANON and KPF_KSM; exit status 0 when KPF_KSM is
 * clear, 1 when it is set, 2 when the files cannot be read.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define KPF_ANON	12
#define KPF_KSM		21

static int read_u64(const char *path, uint64_t index, uint64_t *val)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, val, sizeof(*val), index * sizeof(*val));
	close(fd);
	return n == sizeof(*val) ? 0 : -1;
}

int main(void)
{
	long page_size = sysconf(_SC_PAGESIZE);
	uint64_t entry, flags, pfn;
	char *p;

	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	p[0] = 1;
	if (read_u64("/proc/self/pagemap", (uintptr_t)p / page_size, &entry) ||
	    !(entry >> 63)) {
		fprintf(stderr, "pagemap: no present page\n");
		return 2;
	}
	pfn = entry & ((1ULL << 55) - 1);
	if (!pfn || read_u64("/proc/kpageflags", pfn, &flags)) {
		fprintf(stderr, "no pfn or no kpageflags: run as root\n");
		return 2;
	}
	printf("pfn %#llx: KPF_ANON %d KPF_KSM %d\n", (unsigned long long)pfn,
	       (int)(flags >> KPF_ANON & 1), (int)(flags >> KPF_KSM & 1));
	if (flags >> KPF_KSM & 1) {
		printf("WRONG: KPF_KSM on a page KSM never merged\n");
		return 1;
	}
	printf("right: KPF_KSM clear\n");
	return 0;
}
