// SPDX-License-Identifier: GPL-2.0
/*
 * An O_DIRECT read into a MAP_SHARED mapping of an ext4 file, and reclaim
 * of that mapping while the read is in flight. Where the block layer holds
 * the pages it reads into by reference (get_user_pages(), 6.1), reclaim
 * sees clean pages it cannot free and frees their buffers; the read's
 * completion then dirties pages without buffers: ext4_dirty_folio()
 * WARNs, writeback says "does not have buffers attached" and drops them,
 * and what the read brought never reaches the file. Where it pins them
 * (FOLL_PIN), reclaim leaves them alone.
 *
 * No module: the read comes from a block device (a RAM disk) whose reads
 * a cgroup v2 io.max throttles to 512 bytes a second until the reclaim is
 * done. Run it as root, with cgroup v2 (mounted here if it is not), in a
 * guest with brd loaded (make repro builds it into build/repro/):
 *
 *   tools/vm/run --kdir KDIR --no-klog-check --module brd \
 *	--add build/repro -- build/repro/dio-by-reference /mnt/ext4 /dev/ram0
 *
 * The device's first 16 KiB are overwritten. Prints each step and ends
 * with "kept" or "LOST"; exit status 0 when the read's data is in the
 * file, 1 when it is lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LEN	16384
#define OLD	0x11
#define NEW	0xd5
#define CG	"/sys/fs/cgroup/dio-by-reference"

static int dev;
static char *map;
static ssize_t got = -1;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die(path);
	close(fd);
}

static void *reader(void *arg)
{
	got = pread(dev, map, LEN, 0);
	return arg;
}

int main(int argc, char **argv)
{
	char path[4096], throttle[64], pid[16];
	pthread_t thread;
	unsigned char *buf;
	struct stat st;
	int fd, i, lost = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s EXT4_DIR BLOCK_DEVICE\n", argv[0]);
		return 2;
	}
	if (posix_memalign((void **)&buf, 4096, LEN))
		die("posix_memalign");

	/* The device holds NEW; the file OLD, written back and clean. */
	dev = open(argv[2], O_RDWR | O_DIRECT);
	if (dev < 0 || fstat(dev, &st))
		die(argv[2]);
	memset(buf, NEW, LEN);
	if (pwrite(dev, buf, LEN, 0) != LEN)
		die("write the device");
	snprintf(path, sizeof(path), "%s/dio-by-reference", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(buf, OLD, LEN);
	if (fd < 0 || pwrite(fd, buf, LEN, 0) != LEN || fsync(fd))
		die(path);
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");

	/* This process in a cgroup whose reads of the device crawl. */
	if (access("/sys/fs/cgroup/cgroup.procs", F_OK) &&
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL))
		die("mount cgroup2");
	put("/sys/fs/cgroup/cgroup.subtree_control", "+io");
	if (mkdir(CG, 0755) && errno != EEXIST)
		die(CG);
	snprintf(pid, sizeof(pid), "%d", getpid());
	put(CG "/cgroup.procs", pid);
	snprintf(throttle, sizeof(throttle), "%u:%u rbps=512",
		 major(st.st_rdev), minor(st.st_rdev));
	put(CG "/io.max", throttle);

	printf("O_DIRECT read of %d bytes from %s into the mapping, throttled\n",
	       LEN, argv[2]);
	if (pthread_create(&thread, NULL, reader, NULL))
		die("pthread_create");
	sleep(1);
	if (fsync(fd))
		die("fsync");
	printf("written back while the read is in flight; MADV_PAGEOUT\n");
	if (madvise(map, LEN, MADV_PAGEOUT))
		die("MADV_PAGEOUT");
	if (got >= 0) {
		fprintf(stderr, "the read finished before the reclaim\n");
		return 2;
	}
	snprintf(throttle, sizeof(throttle), "%u:%u rbps=max",
		 major(st.st_rdev), minor(st.st_rdev));
	put(CG "/io.max", throttle);
	pthread_join(thread, NULL);
	printf("the read returned %zd\n", got);

	/* Written back, evicted, read from the disk. */
	if (fsync(fd) || munmap(map, LEN) ||
	    posix_fadvise(fd, 0, LEN, POSIX_FADV_DONTNEED))
		die("write back and evict");
	close(fd);
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0 || pread(fd, buf, LEN, 0) != LEN)
		die("read back");
	for (i = 0; i < LEN; i += 4096) {
		printf("page %d on disk: %#x (%s)\n", i / 4096, buf[i],
		       buf[i] == NEW ? "the read's" : "the old data");
		lost |= buf[i] != NEW;
	}
	close(fd);
	unlink(path);
	put("/sys/fs/cgroup/cgroup.procs", pid);
	rmdir(CG);
	printf("%s\n", lost ? "LOST" : "kept");
	return lost;
}
