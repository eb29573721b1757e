// SPDX-License-Identifier: GPL-2.0
/*
 * MADV_PAGEOUT of one page of a large ext4 page-cache folio that a device
 * holds: madvise splits the folio first, and the split releases the
 * folio's buffers before it finds that the folio's references forbid it.
 * The split fails, the folio stays, pinned, in the page cache and without
 * buffers; the device's write is then dirtied without buffers:
 * ext4_dirty_folio() WARNs, writeback says "does not have buffers
 * attached" and drops the folio, and what the device wrote never reaches
 * the disk. Needs an ext4 with large folios (7.x); where ext4 has only
 * small folios there is nothing to split and the data is kept.
 *
 * The device is gup_test.ko's (this repository's module/): a short-term
 * pin_user_pages(FOLL_WRITE) session of the file's four pages, a write
 * through a kernel mapping, unpin_user_pages_dirty_lock(). Run it as root
 * on an ext4 directory, in a guest (make repro builds it into
 * build/repro/):
 *
 *   tools/vm/run --kdir KDIR --no-klog-check --insmod build/k/NAME/gup_test.ko \
 *	--add build/repro -- build/repro/split-frees-held-buffers /mnt/ext4
 *
 * Prints each step and ends with "kept" or "LOST"; exit status 0 when the
 * device's data is on the disk, 1 when it is lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gup_test_abi.h"

#define PAGE	4096
#define LEN	(4 * PAGE)
#define OLD	0x11
#define NEW	0xd5

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Page 1 as the session holds it. */
static void show(int gup, __u32 id, const char *when)
{
	struct gup_page_state ps;
	struct gup_page_query q = {
		.id = id, .start = 1, .count = 1, .states = (uintptr_t)&ps,
	};

	if (ioctl(gup, GUP_PIN_QUERY, &q))
		die("GUP_PIN_QUERY");
	printf("%s: folio of order %u, buffers %s\n", when, ps.order,
	       ps.flags & GUP_PS_PRIVATE ? "attached" : "gone");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct gup_pin_session s = { .size = LEN, .api = GUP_API_PUP,
				     .flags = GUP_PIN_WRITE };
	struct gup_unpin_session u = { .how = GUP_UNPIN_DEVICE_DIRTY };
	unsigned char buf[LEN], *disk;
	struct gup_dma dma = { .dir = GUP_DMA_TO_PAGES, .len = LEN,
			       .buf = (uintptr_t)buf };
	char path[4096], dev[64];
	int fd, gup, direct, i, lost = 0;
	char *map;

	gup = open(gup_test_path(dev, sizeof(dev)), O_RDWR);
	if (gup < 0)
		die(dev);
	/* The file: on the disk, its pages clean with their buffers. */
	snprintf(path, sizeof(path), "%s/split-frees-held-buffers", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	unlink(path);
	memset(buf, OLD, LEN);
	if (pwrite(fd, buf, LEN, 0) != LEN || fsync(fd))
		die("write");
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");

	/* The device holds it for write; writeback cleans it. */
	s.addr = (uintptr_t)map;
	if (ioctl(gup, GUP_PIN_START, &s))
		die("GUP_PIN_START");
	if (fsync(fd))
		die("fsync");
	show(gup, s.id, "pinned");

	/* Reclaim of page 1 alone: a split of its folio first. */
	if (madvise(map + PAGE, PAGE, MADV_PAGEOUT))
		die("MADV_PAGEOUT");
	show(gup, s.id, "after MADV_PAGEOUT of page 1");

	/* The device writes; the driver releases, marking the pages dirty. */
	memset(buf, NEW, LEN);
	dma.id = s.id;
	u.id = s.id;
	if (ioctl(gup, GUP_DMA, &dma) || ioctl(gup, GUP_PIN_STOP, &u))
		die("GUP_DMA, GUP_PIN_STOP");
	if (fsync(fd))
		die("fsync");

	/* The disk, past the page cache. */
	if (posix_memalign((void **)&disk, PAGE, LEN))
		die("posix_memalign");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	direct = open(path, O_RDONLY | O_DIRECT);
	if (direct < 0 || pread(direct, disk, LEN, 0) != LEN)
		die("O_DIRECT read");
	for (i = 0; i < LEN; i += PAGE) {
		printf("page %d on the disk: %#x\n", i / PAGE, disk[i]);
		lost |= disk[i] != NEW;
	}
	printf("%s\n", lost ? "LOST" : "kept");
	return lost;
}
