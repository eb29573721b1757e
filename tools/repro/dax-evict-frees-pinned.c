// SPDX-License-Identifier: GPL-2.0
/*
 * The eviction of a DAX file's inode while a device holds one of its pages:
 * truncate and hole punch wait for the pin (the file systems' break-layouts
 * wait), the final iput() of an unlinked file does not before 6.15. It
 * truncates the page cache's DAX entries at once, dax_disassociate_entry()
 * WARNs that the page it frees is still held, and the file system frees the
 * block. The next file to get that block shares its storage with the
 * device: what the device writes through its pin lands in that file.
 *
 * The device is gup_test.ko's (this repository's module/): a short-term
 * pin_user_pages_fast(FOLL_WRITE) session of the file's page, reads and
 * writes through a kernel mapping. Run it as root on a directory of a file
 * system mounted -o dax, in a guest (make repro builds it into
 * build/repro/; our guests mount one at /mnt/pmem-ext4):
 *
 *   tools/vm/run --kdir KDIR --no-klog-check --insmod build/k/NAME/gup_test.ko \
 *	--add build/repro -- build/repro/dax-evict-frees-pinned /mnt/pmem-ext4
 *
 * Prints each step; exit status 0 when the unlink waits for the unpin, 1
 * when it returns with the page still pinned.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gup_test_abi.h"

#define PAGE	4096

static char path_a[4096];
static atomic_int unlinked;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* The last reference to file A goes: its inode is evicted. */
static void *unlink_a(void *arg)
{
	if (unlink(path_a))
		die("unlink");
	atomic_store(&unlinked, 1);
	return NULL;
}

/* A one-page file of byte c, written and synced; its fd. */
static int make_file(const char *path, int c)
{
	unsigned char buf[PAGE];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		die(path);
	memset(buf, c, PAGE);
	if (pwrite(fd, buf, PAGE, 0) != PAGE || fsync(fd))
		die("write");
	return fd;
}

static int device(int gup, __u32 id, __u32 dir, unsigned char *buf)
{
	struct gup_dma dma = { .id = id, .dir = dir, .len = 16,
			       .buf = (uintptr_t)buf };

	return ioctl(gup, GUP_DMA, &dma);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct gup_pin_session s = { .size = PAGE, .api = GUP_API_PUP_FAST,
				     .flags = GUP_PIN_WRITE };
	struct gup_unpin_session u = { .how = GUP_UNPIN_PLAIN };
	unsigned char buf[16], back[16];
	char path_b[4096], dev[64];
	int fd, gup, bug;
	pthread_t t;
	char *map;

	gup = open(gup_test_path(dev, sizeof(dev)), O_RDWR);
	if (gup < 0)
		die(dev);
	snprintf(path_a, sizeof(path_a), "%s/dax-evict-a", dir);
	snprintf(path_b, sizeof(path_b), "%s/dax-evict-b", dir);
	fd = make_file(path_a, 0x11);
	map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	s.addr = (uintptr_t)map;
	if (ioctl(gup, GUP_PIN_START, &s))
		die("GUP_PIN_START");
	printf("A's page pinned for a device\n");

	/* Every reference but the pin goes; the unlink is the last. */
	munmap(map, PAGE);
	close(fd);
	if (pthread_create(&t, NULL, unlink_a, NULL))
		die("pthread_create");
	sleep(1);
	bug = atomic_load(&unlinked);
	printf("unlink of A %s\n", bug ? "returned with the page still pinned" :
	       "waits for the unpin");
	if (bug) {
		/* A new file: does it get the block the device holds? */
		fd = make_file(path_b, 0x22);
		if (device(gup, s.id, GUP_DMA_FROM_PAGES, back))
			die("GUP_DMA");
		printf("the device reads %#x through its pin%s\n", back[0],
		       back[0] == 0x22 ? ": B's data, B has A's old block" : "");
		memset(buf, 0x33, sizeof(buf));
		if (device(gup, s.id, GUP_DMA_TO_PAGES, buf))
			die("GUP_DMA");
		if (pread(fd, back, sizeof(back), 0) != sizeof(back))
			die("pread");
		printf("B holds %#x after the device wrote %#x to A's page\n",
		       back[0], buf[0]);
		close(fd);
		unlink(path_b);
	}
	u.id = s.id;
	if (ioctl(gup, GUP_PIN_STOP, &u))
		die("GUP_PIN_STOP");
	if (pthread_join(t, NULL))
		die("pthread_join");
	printf("%s\n", bug ? "FREED UNDER THE PIN" : "waited");
	return bug;
}
