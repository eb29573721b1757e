// SPDX-License-Identifier: GPL-2.0
/*
 * EXT4_IOC_MOVE_EXT with a donor it cannot move drops the buffers of the
 * original file's page, and a page that a device holds through a pin is
 * then dirtied without buffers: ext4_dirty_folio() WARNs, writeback says
 * "does not have buffers attached" and drops the page, and what the
 * device wrote never reaches the disk.
 *
 * The device is gup_test.ko's (this repository's module/): a short-term
 * pin_user_pages(FOLL_WRITE) session, a write through a kernel mapping,
 * unpin_user_pages_dirty_lock(). Run it as root on an ext4 directory, in
 * a guest (make repro builds it into build/repro/):
 *
 *   tools/vm/run --kdir KDIR --no-klog-check --insmod build/k/NAME/gup_test.ko \
 *	--add build/repro -- build/repro/ext4-move-ext-busy /mnt/ext4
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

#define LEN	4096
#define OLD	0x11
#define NEW	0xd5

struct move_extent {
	__u32 reserved;
	__u32 donor_fd;
	__u64 orig_start;
	__u64 donor_start;
	__u64 len;
	__u64 moved_len;
};

#define EXT4_IOC_MOVE_EXT	_IOWR('f', 15, struct move_extent)

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int file_of(const char *dir, const char *name, unsigned char c)
{
	char path[4096], buf[LEN];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	unlink(path);
	memset(buf, c, LEN);
	if (pwrite(fd, buf, LEN, 0) != LEN || fsync(fd))
		die("write");
	return fd;
}

static unsigned int page_flags(int gup, __u32 id)
{
	struct gup_page_state ps;
	struct gup_page_query q = {
		.id = id, .count = 1, .states = (uintptr_t)&ps,
	};

	if (ioctl(gup, GUP_PIN_QUERY, &q))
		die("GUP_PIN_QUERY");
	return ps.flags;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct gup_pin_session s = { .size = LEN, .api = GUP_API_PUP,
				     .flags = GUP_PIN_WRITE };
	struct gup_unpin_session u = { .how = GUP_UNPIN_DEVICE_DIRTY };
	struct move_extent me = { .len = 1 };
	unsigned char buf[LEN], *disk;
	char dev[64];
	int fd, donor, gup, ret, direct;
	struct gup_dma dma = { .dir = GUP_DMA_TO_PAGES, .len = LEN,
			       .buf = (uintptr_t)buf };
	char *map;

	gup = open(gup_test_path(dev, sizeof(dev)), O_RDWR);
	if (gup < 0)
		die(dev);
	/* The file: on the disk, its page clean with its buffers. */
	fd = file_of(dir, "orig", OLD);
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	/* The device holds it for write; writeback cleans it. */
	s.addr = (uintptr_t)map;
	if (ioctl(gup, GUP_PIN_START, &s))
		die("GUP_PIN_START");
	if (fsync(fd))
		die("fsync");
	printf("pinned: buffers %s\n",
	       page_flags(gup, s.id) & GUP_PS_PRIVATE ? "attached" : "gone");

	/* A donor whose page is dirty: its buffers cannot be released. */
	donor = file_of(dir, "donor", 0x6b);
	memset(buf, 0x6b, LEN);
	if (pwrite(donor, buf, LEN, 0) != LEN)
		die("write");
	me.donor_fd = donor;
	ret = ioctl(fd, EXT4_IOC_MOVE_EXT, &me);
	printf("EXT4_IOC_MOVE_EXT: %s, moved %llu\n",
	       ret ? strerror(errno) : "0", (unsigned long long)me.moved_len);
	printf("after it: buffers %s\n",
	       page_flags(gup, s.id) & GUP_PS_PRIVATE ? "attached" : "gone");

	/* The device writes; the driver releases, marking the page dirty. */
	memset(buf, NEW, LEN);
	dma.id = s.id;
	u.id = s.id;
	if (ioctl(gup, GUP_DMA, &dma) || ioctl(gup, GUP_PIN_STOP, &u))
		die("GUP_DMA, GUP_PIN_STOP");
	if (fsync(fd))
		die("fsync");

	/* The disk, past the page cache. */
	if (posix_memalign((void **)&disk, LEN, LEN))
		die("posix_memalign");
	snprintf((char *)buf, sizeof(buf), "/proc/self/fd/%d", fd);
	direct = open((char *)buf, O_RDONLY | O_DIRECT);
	if (direct < 0 || pread(direct, disk, LEN, 0) != LEN)
		die("O_DIRECT read");
	printf("on the disk: %#x: %s\n", disk[0],
	       disk[0] == NEW ? "kept" : "LOST");
	return disk[0] == NEW ? 0 : 1;
}
