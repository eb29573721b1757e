// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only FOLL_LONGTERM pin of a MAP_PRIVATE file range that the page
 * cache holds in one PMD-sized folio, mapped by a PMD. The folio is the
 * file's, in a COW mapping, so GUP must unshare it (gup_must_unshare()):
 * it faults with FAULT_FLAG_UNSHARE. wp_huge_pmd() has nothing to unshare
 * a file PMD with; it splits the PMD, which for a file only unmaps it, and
 * returns VM_FAULT_FALLBACK. The fault goes on as a missing PTE, and an
 * unshare fault is no write fault: do_fault() takes do_read_fault(), whose
 * fault-around (filemap_map_pmd()) or finish_fault() maps the same folio
 * by a PMD again. GUP finds the PMD it started from and faults again: the
 * pin never returns, and its task runs in the kernel with mmap_lock held
 * for read, so that every mmap() of the process waits behind it.
 *
 * The pin is gup_test.ko's (this repository's module/):
 * pin_user_pages(FOLL_LONGTERM), read-only, one page. The file is on DIR,
 * a file system that keeps large folios in the page cache (ext4 on 6.16
 * and later, XFS), or on a tmpfs mounted huge=always that the reproducer
 * mounts itself when DIR is "tmpfs". Run it as root in a guest with the
 * module loaded (make repro builds it into build/repro/):
 *
 *   tools/vm/run --kdir KDIR --insmod build/k/NAME/gup_test.ko \
 *	--add build/repro -- build/repro/file-pmd-unshare tmpfs
 *
 * The pin runs in a child, which is killed after 20 s. Prints each step;
 * exit status 0 when the pin returned an anonymous copy (the unshare),
 * 1 when it did not return, 2 when the set-up failed or no PMD mapped the
 * file (nothing shown), 3 when it returned the file's page (a kernel that
 * does not unshare file pages: 6.1), 4 when the pin failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gup_test_abi.h"

#define PMD_SIZE_FILE	"/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
#define LIMIT_S		20

static long read_long(const char *path)
{
	long val = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

/* A field of /proc/self/smaps for the mapping at addr, in kB. */
static long smaps_kb(const void *addr, const char *field)
{
	unsigned long start, end, want = (uintptr_t)addr;
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (in)
				break;
			in = start <= want && want < end;
		} else if (in && !strncmp(line, field, flen) &&
			   line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* The child: map, read, pin. Exit status as main()'s. */
static int pin_child(const char *dir, size_t pmd)
{
	struct gup_pin_session s = { 0 };
	struct gup_page_query q = { 0 };
	struct gup_page_state ps;
	char path[4096], *buf, *resv, *p;
	int fd, dev;
	size_t off;
	long sum = 0;

	snprintf(path, sizeof(path), "%s/file-pmd-unshare.XXXXXX", dir);
	fd = mkstemp(path);
	buf = malloc(pmd);
	if (fd < 0 || !buf) {
		perror("mkstemp");
		return 2;
	}
	unlink(path);
	memset(buf, 'x', pmd);
	if (pwrite(fd, buf, pmd, 0) != (ssize_t)pmd || fsync(fd)) {
		perror("write the file");
		return 2;
	}
	/* Read back through the mapping: readahead in PMD-sized folios. */
	posix_fadvise(fd, 0, pmd, POSIX_FADV_DONTNEED);
	resv = mmap(NULL, 2 * pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (resv == MAP_FAILED)
		return 2;
	p = (char *)(((uintptr_t)resv + pmd - 1) & ~(pmd - 1));
	p = mmap(p, pmd, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED || madvise(p, pmd, MADV_HUGEPAGE)) {
		perror("mmap, MADV_HUGEPAGE");
		return 2;
	}
	for (off = 0; off < pmd; off += 4096)
		sum += p[off];
	printf("read %ld pages of 'x'; FilePmdMapped: %ld kB, ShmemPmdMapped: %ld kB\n",
	       sum / 'x', smaps_kb(p, "FilePmdMapped"),
	       smaps_kb(p, "ShmemPmdMapped"));
	if (smaps_kb(p, "FilePmdMapped") <= 0 &&
	    smaps_kb(p, "ShmemPmdMapped") <= 0) {
		printf("no PMD maps the file: nothing shown\n");
		return 2;
	}

	dev = open(gup_test_path(path, sizeof(path)), O_RDWR);
	if (dev < 0) {
		perror(path);
		return 2;
	}
	s.addr = (uintptr_t)p;
	s.size = 4096;
	s.api = GUP_API_PUP;
	s.flags = GUP_PIN_LONGTERM;	/* read-only */
	printf("pin_user_pages(FOLL_LONGTERM), read-only, of the first page\n");
	fflush(stdout);
	if (ioctl(dev, GUP_PIN_START, &s)) {
		printf("the pin returned: %s\n", strerror(errno));
		return 4;
	}
	q.id = s.id;
	q.count = 1;
	q.states = (uintptr_t)&ps;
	if (ioctl(dev, GUP_PIN_QUERY, &q)) {
		perror("GUP_PIN_QUERY");
		return 4;
	}
	printf("the pin returned: a%s page, order %u\n",
	       ps.flags & GUP_PS_ANON ? "n anonymous" : " file", ps.order);
	return ps.flags & GUP_PS_ANON ? 0 : 3;
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/file-pmd-unshare.XXXXXX";
	const char *dir = argv[1];
	struct timespec t0, t1;
	struct rusage ru;
	long pmd = read_long(PMD_SIZE_FILE);
	int status, ret, i;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR|tmpfs\n", argv[0]);
		return 2;
	}
	if (pmd <= 0) {
		fprintf(stderr, "no %s: no THP\n", PMD_SIZE_FILE);
		return 2;
	}
	if (!strcmp(dir, "tmpfs")) {
		if (!mkdtemp(tmp) ||
		    mount("none", tmp, "tmpfs", 0, "huge=always")) {
			perror("mount tmpfs huge=always");
			return 2;
		}
		dir = tmp;
		printf("tmpfs huge=always on %s\n", dir);
	}
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (!pid)
		_exit(pin_child(dir, pmd));
	for (i = 0; i < 10 * LIMIT_S; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (i == 10 * LIMIT_S) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		getrusage(RUSAGE_CHILDREN, &ru);
		printf("the pin did not return in %d s ",
		       LIMIT_S);
		printf("(the child's system time: %ld.%01ld s): LIVELOCK\n",
		       (long)ru.ru_stime.tv_sec,
		       (long)ru.ru_stime.tv_usec / 100000);
		ret = 1;
	} else {
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
		printf("done in %ld ms\n",
		       (long)((t1.tv_sec - t0.tv_sec) * 1000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000000));
	}
	if (dir == tmp) {
		umount(tmp);
		rmdir(tmp);
	}
	return ret;
}
