// SPDX-License-Identifier: GPL-2.0
/*
 * O_DIRECT with a buffer that is a MAP_SHARED mapping of another file on
 * the test filesystem: the case the put_user_page() work was about. The
 * block layer holds the buffer's page-cache pages while the disk writes
 * into them (a read) or out of them (a write).
 *
 * A read must leave the buffer's pages dirty, so that what the disk wrote
 * reaches the buffer file's own blocks; a write must leave them as clean
 * as it found them. Either way the block layer takes exactly one pin per
 * page where direct I/O pins (kernel_expect()->dio_pins: FOLL_PIN since
 * v6.5), none where it takes plain references, and releases all of them.
 *
 * A buffer that starts inside a page of a large folio: the bio's segment
 * covers one page more than its length in pages, and its completion must
 * release a pin for each page it spans (38b43539d64b, v6.9, fixed a release
 * that counted pages from the length).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	16
#define UNALIGNED	512	/* one sector into the buffer's first page */
#define UNALIGNED_PAGES	8	/* the read's length, spanning one more */

struct dio_file {
	char path[PATH_MAX];
	int fd;
};

FIXTURE(dio)
{
	int gup_fd;
	struct dio_file data;	/* the disk side of the I/O */
	struct dio_file buf;	/* the buffer's file */
	char *map;		/* buf, MAP_SHARED */
	char *pattern;
	size_t len;
};

/* Creates a file of len bytes holding pattern (or zeros), on disk. */
static int dio_file_create(struct dio_file *f, const char *dir,
			   const char *pattern, size_t len)
{
	char *zeros = NULL;
	ssize_t n;

	snprintf(f->path, sizeof(f->path), "%s/gup_dio.XXXXXX", dir);
	f->fd = mkstemp(f->path);
	if (f->fd < 0)
		return -errno;
	if (!pattern) {
		zeros = calloc(1, len);
		if (!zeros)
			return -ENOMEM;
	}
	n = pwrite(f->fd, pattern ? pattern : zeros, len, 0);
	free(zeros);
	if (n != (ssize_t)len || fsync(f->fd))
		return -EIO;
	return 0;
}

static void dio_file_remove(struct dio_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->path[0])
		unlink(f->path);
	f->fd = -1;
	f->path[0] = 0;
}

/* Opens path again with O_DIRECT; -errno on failure. */
static int open_direct(const char *path, int flags)
{
	int fd = open(path, flags | O_DIRECT);

	return fd < 0 ? -errno : fd;
}

/*
 * PG_dirty of each mapped page, by both witnesses: the module's folio
 * state and /proc/kpageflags. Fails the test if they disagree.
 */
static void dirty_bits(struct __test_metadata *_metadata, int fd, char *map,
		       bool *dirty)
{
	struct gup_page_state ps[NR_PAGES];
	__s64 kpf;
	int i;

	ASSERT_EQ(0, gup_state_addr(fd, map, ps, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(0, ps[i].flags & (GUP_PS_ANON | GUP_PS_ZERO_PAGE))
			TH_LOG("page %d of the buffer is not the file's", i);
		kpf = kpageflags(ps[i].pfn);
		ASSERT_LE(0, kpf) TH_LOG("/proc/kpageflags unreadable");
		dirty[i] = ps[i].flags & GUP_PS_DIRTY;
		ASSERT_EQ(dirty[i], !!(kpf & (1LL << KPF_DIRTY_BIT)))
			TH_LOG("page %d: module and kpageflags disagree", i);
	}
}

FIXTURE_SETUP(dio)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	size_t i;

	self->data.fd = -1;
	self->buf.fd = -1;
	self->map = MAP_FAILED;
	self->pattern = NULL;
	self->len = NR_PAGES * page_size;
	self->gup_fd = gup_open();
	if (gup_open_skip(self->gup_fd))
		SETUP_SKIP(return, "%s", gup_open_skip(self->gup_fd));
	ASSERT_LE(0, self->gup_fd);
	if (!dir) {
		if (!in_suite_guest())
			SETUP_SKIP(return, "GUP_TEST_FS_DIR is not set: no test filesystem");
		ASSERT_NE(NULL, dir) TH_LOG("GUP_TEST_FS_DIR is not set");
	}
	ASSERT_LE(0, kernel_expect()->dio_pins)
		TH_LOG("direct I/O pins could not be probed");

	self->pattern = malloc(self->len);
	ASSERT_NE(NULL, self->pattern);
	for (i = 0; i < self->len; i++)
		self->pattern[i] = (char)(i * 7 + i / page_size + 1);
	ASSERT_EQ(0, dio_file_create(&self->data, dir, self->pattern,
				     self->len));
	ASSERT_EQ(0, dio_file_create(&self->buf, dir, NULL, self->len));
	self->map = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->buf.fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	/* Read faults: the pages are in the page cache, clean, mapped. */
	for (i = 0; i < self->len; i += page_size)
		touch_read(self->map + i);
}

FIXTURE_TEARDOWN(dio)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	dio_file_remove(&self->data);
	dio_file_remove(&self->buf);
	free(self->pattern);
	if (self->gup_fd >= 0)
		close(self->gup_fd);
}

/*
 * The disk writes into the buffer: every page dirty afterwards, the data in
 * the mapping, and once written back and evicted, in the buffer file's
 * blocks. One pin per page where direct I/O pins.
 */
TEST_F(dio, read_into_shared_file)
{
	long long acq0, rel0, pins;
	bool dirty[NR_PAGES];
	char *back;
	int fd, i;

	SETUP_SKIPPED(return);
	dirty_bits(_metadata, self->gup_fd, self->map, dirty);
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_FALSE(dirty[i]) TH_LOG("page %d dirty before the read", i);

	fd = open_direct(self->data.path, O_RDONLY);
	ASSERT_LE(0, fd);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ASSERT_EQ((ssize_t)self->len, pread(fd, self->map, self->len, 0));
	pins = pins_settled(acq0, rel0, NULL);
	close(fd);
	ASSERT_EQ(NR_PAGES * kernel_expect()->dio_pins, pins)
		TH_LOG("a %d-page O_DIRECT read: %lld pins (-1: not all released)",
		       NR_PAGES, pins);
	gup_report("O_DIRECT read of %d pages into a shared file mapping: %lld pins\n",
		   NR_PAGES, pins);

	ASSERT_EQ(0, memcmp(self->map, self->pattern, self->len));
	dirty_bits(_metadata, self->gup_fd, self->map, dirty);
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_TRUE(dirty[i])
			TH_LOG("page %d clean after the disk wrote it", i);

	/* Written back, unmapped and evicted: the blocks have the data. */
	ASSERT_EQ(0, fsync(self->buf.fd));
	ASSERT_EQ(0, munmap(self->map, self->len));
	self->map = MAP_FAILED;
	ASSERT_EQ(0, posix_fadvise(self->buf.fd, 0, self->len,
				   POSIX_FADV_DONTNEED));
	back = malloc(self->len);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, read_disk(self->buf.path, 0, back, self->len));
	ASSERT_EQ(0, memcmp(back, self->pattern, self->len))
		TH_LOG("the buffer file's blocks do not hold what was read");
	free(back);
}

/*
 * The disk reads out of the buffer: the data arrives, the buffer's pages
 * stay clean (a write source is pinned read-only and never dirtied), one
 * pin per page where direct I/O pins.
 */
TEST_F(dio, write_from_shared_file)
{
	long long acq0, rel0, pins;
	bool dirty[NR_PAGES];
	char *back;
	int fd, i;

	SETUP_SKIPPED(return);
	/* The buffer file holds the pattern, on disk and clean. */
	ASSERT_EQ((ssize_t)self->len,
		  pwrite(self->buf.fd, self->pattern, self->len, 0));
	ASSERT_EQ(0, fsync(self->buf.fd));
	ASSERT_EQ(0, memcmp(self->map, self->pattern, self->len));
	/* The destination starts as zeros. */
	ASSERT_EQ(0, ftruncate(self->data.fd, 0));
	ASSERT_EQ(0, ftruncate(self->data.fd, self->len));
	ASSERT_EQ(0, fsync(self->data.fd));
	dirty_bits(_metadata, self->gup_fd, self->map, dirty);
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_FALSE(dirty[i]) TH_LOG("page %d dirty before the write",
					      i);

	fd = open_direct(self->data.path, O_WRONLY);
	ASSERT_LE(0, fd);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ASSERT_EQ((ssize_t)self->len, pwrite(fd, self->map, self->len, 0));
	pins = pins_settled(acq0, rel0, NULL);
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_EQ(NR_PAGES * kernel_expect()->dio_pins, pins)
		TH_LOG("a %d-page O_DIRECT write: %lld pins (-1: not all released)",
		       NR_PAGES, pins);
	gup_report("O_DIRECT write of %d pages from a shared file mapping: %lld pins\n",
		   NR_PAGES, pins);

	dirty_bits(_metadata, self->gup_fd, self->map, dirty);
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_FALSE(dirty[i])
			TH_LOG("page %d dirtied by being written out", i);
	back = malloc(self->len);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, read_disk(self->data.path, 0, back, self->len));
	ASSERT_EQ(0, memcmp(back, self->pattern, self->len));
	free(back);
}

/*
 * An O_DIRECT read of UNALIGNED_PAGES pages into a PMD-mapped anonymous
 * THP, UNALIGNED bytes into its first page: one pin per page the buffer
 * spans where direct I/O pins, every one released, the folio's counts as
 * before, the data in place and the bytes before it untouched.
 */
TEST_F(dio, read_unaligned_into_thp)
{
	size_t len = UNALIGNED_PAGES * page_size, span = UNALIGNED_PAGES + 1;
	struct gup_page_state before, after;
	long long acq0, rel0, pins;
	struct mem m;
	char why[256];
	int fd, i;

	SETUP_SKIPPED(return);
	MEM_SETUP_OR_SKIP(return, &m, MEM_ANON_THP, NR_PAGES);
	memset(m.addr, 0x2d, UNALIGNED);
	ASSERT_EQ(0, gup_state_addr(self->gup_fd, m.addr, &before, 1));
	ASSERT_LT(0, before.order);

	fd = open_direct(self->data.path, O_RDONLY);
	ASSERT_LE(0, fd);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ASSERT_EQ((ssize_t)len, pread(fd, m.addr + UNALIGNED, len, 0))
		TH_LOG("O_DIRECT read into a buffer %d bytes into a page: %s",
		       UNALIGNED, strerror(errno));
	pins = pins_settled(acq0, rel0, NULL);
	close(fd);
	ASSERT_EQ((long long)span * kernel_expect()->dio_pins, pins)
		TH_LOG("%zu pages spanned: %lld pins (-1: not all released)",
		       span, pins);
	ASSERT_EQ(0, gup_state_addr(self->gup_fd, m.addr, &after, 1));
	ASSERT_TRUE(page_counts_equal(&before, &after))
		TH_LOG("the THP after the read: %s",
		       page_counts_str(&after, why, sizeof(why)));
	ASSERT_EQ(0, memcmp(m.addr + UNALIGNED, self->pattern, len));
	for (i = 0; i < UNALIGNED && m.addr[i] == 0x2d; i++)
		;
	ASSERT_EQ(UNALIGNED, i) TH_LOG("byte %d before the buffer changed", i);
	mem_teardown(&m);
}

TEST_HARNESS_MAIN
