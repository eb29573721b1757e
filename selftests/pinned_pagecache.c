// SPDX-License-Identifier: GPL-2.0
/*
 * A page-cache page of an ext4 file, held by a device, and what the kernel
 * may do to it and its file meanwhile.
 *
 * FOLL_PIN exists for one bug: a driver took a page-cache page with
 * get_user_pages(), writeback cleaned it, reclaim saw a clean page and
 * released its buffers, the device wrote into it, the driver marked it
 * dirty at release, and ext4 met a dirty page without buffers: a WARN,
 * then "does not have buffers attached" at writeback, and the device's
 * data never reached the disk. With a pin, folio_maybe_dma_pinned() tells
 * the kernel's paths to leave the page and its buffers alone.
 *
 * Each case is one action on the page or its file, taken while a session
 * holds the file's pages for write and writeback has cleaned them:
 *
 *   written and synced -> held -> synced (clean) -> ACTION -> the device
 *   writes -> released, marking what it wrote dirty -> synced -> evicted
 *   -> the blocks read back with O_DIRECT
 *
 * The witnesses: the module's page state (still in the page cache, buffers
 * attached, dirty, refcount) with /proc/kpageflags' PRIVATE bit beside it,
 * the kernel log of the case, and the disk. Each case asserts what the
 * kernel does with the page, and where the device's data ends up:
 *
 *   kept         the disk has the device's data
 *   hole         the range left the file (truncate, hole punch): zeros
 *   overwritten  the page left the page cache; the disk has what the
 *                file's owner wrote, the device's later write went to a
 *                page no file refers to
 *   lost         the disk has the old data, and ext4 said why
 *
 * A case that shows a kernel bug found here (known_bugs[]) asserts what
 * the bug does and ends in XFAIL; on a kernel without it, it fails.
 *
 * The pin variant is the device as drivers hold pages today
 * (pin_user_pages(), unpin_user_pages_dirty_lock()); the get variant the
 * way the bug was made (get_user_pages(), set_page_dirty_lock(),
 * put_page()). The dio_inflight cases are the kernel's own short-term
 * hold: an O_DIRECT read into the pages, in flight during the action.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	4
#define OLD		0x11	/* what the file held */
#define NEW		0xd5	/* what the device writes */
#define OWNER		0x6b	/* what the file's owner writes (O_DIRECT) */

#define KPF_PRIVATE_BIT	35	/* PG_private: ext4's buffer heads */

/* include/uapi/linux/mempolicy.h */
#define MPOL_DEFAULT	0
#define MPOL_BIND	2
#define MPOL_MF_MOVE	2

/* fs/ext4/ext4.h: EXT4_IOC_MOVE_EXT, what e4defrag calls */
struct move_extent {
	__u32 reserved;
	__u32 donor_fd;
	__u64 orig_start;
	__u64 donor_start;
	__u64 len;
	__u64 moved_len;
};

#define EXT4_IOC_MOVE_EXT	_IOWR('f', 15, struct move_extent)

enum action {
	ACT_NONE,
	ACT_PAGEOUT,		/* madvise(MADV_PAGEOUT): reclaim */
	ACT_PAGEOUT_ONE,	/* the same, of page 1 alone */
	ACT_MEMCG_RECLAIM,	/* memory.reclaim of the file's cgroup */
	ACT_COLD,		/* madvise(MADV_COLD) */
	ACT_DROP_CACHES,	/* vm.drop_caches = 3 */
	ACT_FADV_DONTNEED,	/* posix_fadvise(POSIX_FADV_DONTNEED) */
	ACT_COMPACT,		/* vm.compact_memory */
	ACT_MOVE_PAGES,		/* move_pages() to the other node */
	ACT_MBIND,		/* mbind(MPOL_BIND, MPOL_MF_MOVE) to it */
	ACT_SPLIT,		/* debugfs split_huge_pages of the range */
	ACT_TRUNCATE,		/* ftruncate() to 0 and back */
	ACT_PUNCH_HOLE,		/* fallocate(PUNCH_HOLE) over the range */
	ACT_DIO_WRITE,		/* an O_DIRECT write over the range */
	ACT_MOVE_EXT,		/* EXT4_IOC_MOVE_EXT from an idle donor */
	ACT_MOVE_EXT_BUSY,	/* the same, the donor's page dirty */
};

static const char * const action_name[] = {
	[ACT_NONE] = "none", [ACT_PAGEOUT] = "pageout",
	[ACT_PAGEOUT_ONE] = "pageout_one",
	[ACT_MEMCG_RECLAIM] = "memcg_reclaim", [ACT_COLD] = "cold",
	[ACT_DROP_CACHES] = "drop_caches",
	[ACT_FADV_DONTNEED] = "fadv_dontneed", [ACT_COMPACT] = "compact",
	[ACT_MOVE_PAGES] = "move_pages", [ACT_MBIND] = "mbind",
	[ACT_SPLIT] = "split",
	[ACT_TRUNCATE] = "truncate", [ACT_PUNCH_HOLE] = "punch_hole",
	[ACT_DIO_WRITE] = "dio_write", [ACT_MOVE_EXT] = "move_ext",
	[ACT_MOVE_EXT_BUSY] = "move_ext_busy",
};

enum outcome { KEPT, HOLE, OVERWRITTEN, LOST };

static const char * const outcome_name[] = {
	[KEPT] = "kept", [HOLE] = "hole", [OVERWRITTEN] = "overwritten",
	[LOST] = "lost",
};

/*
 * What becomes of the device's data in page i, of a folio of that order.
 * A pin keeps reclaim and migration away; a plain reference does not stop
 * reclaim from releasing the buffers of a clean page it then fails to
 * free. Reclaim of part of a large folio first splits it, which the held
 * folio's references refuse.
 */
static enum outcome expected(unsigned int api, enum action act, size_t i,
			     unsigned int order)
{
	switch (act) {
	case ACT_TRUNCATE:
	case ACT_PUNCH_HOLE:
		return HOLE;
	case ACT_DIO_WRITE:
		return OVERWRITTEN;
	case ACT_PAGEOUT:
	case ACT_MEMCG_RECLAIM:
		return api_pins(api) ? KEPT : LOST;
	case ACT_PAGEOUT_ONE:
		return !api_pins(api) && !order && i == 1 ? LOST : KEPT;
	default:
		return KEPT;
	}
}

/*
 * The kernel bugs these cases found. A case that shows one asserts what
 * the bug does, page by page, down to the disk and the kernel log, and
 * ends in XFAIL naming it; on a kernel without the bug the same case
 * fails, and says that the bug is gone. klog.expected accepts the bug's
 * reports from these cases alone, and fails a log that lacks them.
 */
enum bug {
	BUG_NONE,
	BUG_MOVE_EXT_BUSY,
	BUG_SPLIT_FREES_BUFFERS,
	BUG_DIO_BY_REFERENCE,
};

/* Each bug's name: its report in docs/kernel-bugs/, its cases' in the log. */
static const char * const bug_name[] = {
	[BUG_MOVE_EXT_BUSY] = "ext4-move-ext-busy-donor",
	[BUG_SPLIT_FREES_BUFFERS] = "split-frees-held-buffers",
	[BUG_DIO_BY_REFERENCE] = "dio-by-reference",
};

static const char * const bug_what[] = {
	[BUG_MOVE_EXT_BUSY] =
		"ext4: EXT4_IOC_MOVE_EXT with a busy donor frees the held page's buffers, then fails with EBUSY (docs/kernel-bugs/ext4-move-ext-busy-donor.md)",
	[BUG_SPLIT_FREES_BUFFERS] =
		"mm: a split of a held large file folio frees its buffers, then fails on the folio's references (docs/kernel-bugs/split-frees-held-buffers.md)",
	[BUG_DIO_BY_REFERENCE] =
		"direct I/O holds the pages it reads into by reference, not by pin (the block layer before v6.5): reclaim frees their buffers (docs/kernel-bugs/dio-by-reference.md)",
};

/* What kept the data, or lost it, as the kernels' sources say. */
static const char *why(unsigned int api, enum action act)
{
	switch (act) {
	case ACT_NONE:
		return "nothing acted on the page";
	case ACT_PAGEOUT:
		return api_pins(api) ?
		       "reclaim keeps a maybe-DMA-pinned folio, buffers and all" :
		       "reclaim released the buffers of a clean page it could not free";
	case ACT_PAGEOUT_ONE:
		return api_pins(api) ?
		       "reclaim keeps a maybe-DMA-pinned folio" :
		       "reclaim freed the page's buffers, or kept a large folio it could not split";
	case ACT_MEMCG_RECLAIM:
		return api_pins(api) ?
		       "the cgroup's reclaim keeps a maybe-DMA-pinned folio" :
		       "the cgroup's reclaim freed the buffers of a clean page it could not free";
	case ACT_SPLIT:
		return "a held large folio is not split; a small one has nothing to split";
	case ACT_COLD:
		return "the page was only deactivated";
	case ACT_DROP_CACHES:
	case ACT_FADV_DONTNEED:
		return "invalidation leaves a folio with references beyond the page cache's";
	case ACT_COMPACT:
	case ACT_MOVE_PAGES:
	case ACT_MBIND:
		return "migration refuses a folio with references it cannot account for";
	case ACT_TRUNCATE:
	case ACT_PUNCH_HOLE:
		return "the range left the file, and the held page with it";
	case ACT_DIO_WRITE:
		return "the O_DIRECT write invalidated the held page out of the page cache";
	case ACT_MOVE_EXT:
		return "the move gave the same page new buffers and dirtied it";
	case ACT_MOVE_EXT_BUSY:
		return "the move released the page's buffers, then gave up on the donor's";
	}
	return "";
}

/* The kernel log lines a case must show: ext4's, when data is lost. */
#define EXT4_NO_BUFFERS	"does not have buffers attached"

/*
 * The case's start and end in the kernel log, where the verdict on the log
 * (selftests/klog.expected) looks for what the case may cause. The case
 * open is named here, so that the teardown can end a case an assertion
 * cut short, and nothing after it counts as the case's.
 */
static char open_case[96];

static void kmsg_line(const char *what)
{
	char line[128];
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "gup_pin: case %s %s\n", open_case, what);
	if (write(fd, line, strlen(line)) < 0)
		gup_report("cannot mark the kernel log: %s\n", strerror(errno));
	close(fd);
}

static void kmsg_begin(const char *holder, enum action a, const char *bug)
{
	snprintf(open_case, sizeof(open_case), "%s.%s%s%s", holder,
		 action_name[a], bug ? "+" : "", bug ? bug : "");
	kmsg_line("begins");
}

static void kmsg_end(void)
{
	if (open_case[0])
		kmsg_line("ends");
	open_case[0] = '\0';
}

#define SPLIT_HUGE_PAGES	"/sys/kernel/debug/split_huge_pages"
#define CGROUP_ROOT		"/sys/fs/cgroup"

/*
 * ext4's warnings are rate-limited per file system (10 in 5 s): a case's
 * "does not have buffers attached" must not be lost to the cases before
 * it. The limit is off for the case, and put back after it.
 */
static char ratelimit_path[96], ratelimit_old[32];

static void ext4_ratelimit_off(const char *file)
{
	char link[64], dev[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(file, &st))
		return;
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	n = readlink(link, dev, sizeof(dev) - 1);
	if (n < 0)
		return;
	dev[n] = '\0';
	snprintf(ratelimit_path, sizeof(ratelimit_path),
		 "/sys/fs/ext4/%.32s/warning_ratelimit_interval_ms",
		 strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev);
	fd = open(ratelimit_path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, ratelimit_old, sizeof(ratelimit_old) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || write_value(ratelimit_path, "0")) {
		ratelimit_path[0] = '\0';
		return;
	}
	ratelimit_old[n] = '\0';
}

static void ext4_ratelimit_restore(void)
{
	if (ratelimit_path[0] && write_value(ratelimit_path, ratelimit_old))
		gup_report("cannot restore %s\n", ratelimit_path);
	ratelimit_path[0] = '\0';
}

/* The case's cgroup, while it has one. */
static char cgroup[64];

/*
 * Put this process into a cgroup of its own, under cgroup v2 with the
 * controllers named ("memory", "io") enabled for it. Returns why it
 * cannot, or NULL.
 */
static const char *cgroup_enter(const char *const *controllers)
{
	static char why[96];
	char path[sizeof(cgroup) + 16], pid[16];
	struct statfs sf;

	if ((statfs(CGROUP_ROOT, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
		return "no cgroup v2 at " CGROUP_ROOT ": needs CONFIG_CGROUPS";
	for (; *controllers; controllers++) {
		snprintf(why, sizeof(why), "+%s", *controllers);
		if (write_value(CGROUP_ROOT "/cgroup.subtree_control", why)) {
			snprintf(why, sizeof(why),
				 "no %s controller: needs CONFIG_%s", *controllers,
				 strcmp(*controllers, "io") ? "MEMCG" : "BLK_CGROUP");
			return why;
		}
	}
	snprintf(cgroup, sizeof(cgroup), CGROUP_ROOT "/gup_pin.%d", getpid());
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (mkdir(cgroup, 0755) || write_value(path, pid)) {
		rmdir(cgroup);
		cgroup[0] = '\0';
		return "cannot make a cgroup and enter it";
	}
	return NULL;
}

/* A file of the case's cgroup: 0 or -errno. */
static int cgroup_write(const char *file, const char *val)
{
	char path[sizeof(cgroup) + 32];

	snprintf(path, sizeof(path), "%s/%s", cgroup, file);
	return write_value(path, val);
}

static void cgroup_leave(void)
{
	char pid[16];

	if (!cgroup[0])
		return;
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_value(CGROUP_ROOT "/cgroup.procs", pid) || rmdir(cgroup))
		gup_report("cannot remove %s: %s\n", cgroup, strerror(errno));
	cgroup[0] = '\0';
}

/*
 * Who holds the pages for write while the action is taken: the module's
 * session, pin_user_pages() or get_user_pages() (api), or the kernel's own
 * direct I/O: an O_DIRECT read into them from a RAM disk whose reads the
 * case's cgroup throttles until the action is done (api: how the kernel
 * holds them, probed).
 */
struct holder {
	unsigned int api;
	const char *name;	/* the case's name in the kernel log */
	bool dio;
	__u32 id;		/* the session */
	int dev;		/* the RAM disk, O_DIRECT */
	char throttle[32];	/* its "MAJ:MIN", for io.max */
	void *addr;
	size_t size;
	pthread_t reader;
	bool reading;
	int done;
	ssize_t ret;
};

/*
 * What both fixtures' cases share: the end of their set-up, ext4's
 * warnings unlimited and the kernel log read from here on (returns its
 * file), and their teardown.
 */
static int case_log(struct __test_metadata *_metadata, const struct mem *m)
{
	int kmsg;

	ext4_ratelimit_off(m->path);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));
	return kmsg;
}

static void case_end(int gup_fd, int kmsg, struct mem *m)
{
	kmsg_end();
	if (gup_fd >= 0)
		close(gup_fd);
	if (kmsg >= 0)
		close(kmsg);
	mem_teardown(m);
	cgroup_leave();
	ext4_ratelimit_restore();
}

FIXTURE(pagecache)
{
	int fd;			/* gup_test */
	int kmsg;		/* the case's kernel log, from its start */
	struct mem mem;
	struct holder holder;
};

FIXTURE_VARIANT(pagecache)
{
	unsigned int api;
	const char *name;
};

FIXTURE_VARIANT_ADD(pagecache, pin) {
	.api = GUP_API_PUP, .name = "pagecache.pin",
};

FIXTURE_VARIANT_ADD(pagecache, get) {
	.api = GUP_API_GUP, .name = "pagecache.get",
};

FIXTURE_SETUP(pagecache)
{
	self->kmsg = -1;
	self->holder.api = variant->api;
	self->holder.name = variant->name;
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, MEM_FILE_SHARED,
			     NR_PAGES);
	if (!pagemap_pfn(self->mem.addr) || kpageflags(0) < 0) {
		close(self->fd);
		self->fd = -1;
		mem_teardown(&self->mem);
		SETUP_SKIP(return, "no pfns in pagemap or no kpageflags: needs root");
	}
	self->kmsg = case_log(_metadata, &self->mem);
}

FIXTURE_TEARDOWN(pagecache)
{
	case_end(self->fd, self->kmsg, &self->mem);
}

/*
 * The kernel log since the last call: the lines that report something
 * (WARNING, BUG, ext4's warnings), joined with " | " into buf. Returns how
 * many there were.
 */
static int kmsg_reports(int kmsg, char *buf, size_t len)
{
	static const char * const report[] = {
		"WARNING:", "BUG:", "EXT4-fs warning", "EXT4-fs error",
		"Page cache invalidation failure",
	};
	char rec[2048];
	size_t used = 0, i;
	ssize_t n;
	int found = 0;

	buf[0] = '\0';
	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		rec[strcspn(rec, "\n")] = '\0';
		for (i = 0; i < ARRAY_SIZE(report); i++)
			if (strstr(rec, report[i]))
				break;
		if (i == ARRAY_SIZE(report))
			continue;
		found++;
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? " | " : "",
					 strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
	}
	return found;
}

struct witness {
	bool cached;		/* still in the page cache */
	bool buffers;		/* PG_private, from the module and kpageflags */
	bool dirty;
	__u64 pfn;
	__u64 head;		/* the first pfn of its folio */
	unsigned int order;	/* of its folio */
	int refcount;
	int nid;
};

static void witness(struct __test_metadata *_metadata, int fd,
		    const char *addr, struct witness *w)
{
	struct gup_page_state ps;
	__s64 kflags;
	__u64 head;

	ASSERT_EQ(0, gup_state_addr(fd, addr, &ps, 1));
	head = ps.pfn & ~((1ULL << ps.order) - 1);
	kflags = kpageflags(head);
	ASSERT_LE(0, kflags);
	w->cached = ps.flags & GUP_PS_MAPPING;
	w->buffers = ps.flags & GUP_PS_PRIVATE;
	w->dirty = ps.flags & GUP_PS_DIRTY;
	w->pfn = ps.pfn;
	w->head = head;
	w->order = ps.order;
	w->refcount = ps.refcount;
	w->nid = ps.nid;
	ASSERT_EQ(w->buffers, !!(kflags & (1ULL << KPF_PRIVATE_BIT)))
		TH_LOG("module and kpageflags disagree on buffers at %p", addr);
}

/*
 * State of the pages held by session id: as witness() from the session's
 * own references, which stay valid when the page leaves the file.
 */
static void witness_held(struct __test_metadata *_metadata, int fd, __u32 id,
			 size_t i, struct witness *w)
{
	struct gup_page_state ps;

	ASSERT_EQ(0, gup_state(fd, id, i, &ps, 1));
	w->cached = ps.flags & GUP_PS_MAPPING;
	w->buffers = ps.flags & GUP_PS_PRIVATE;
	w->dirty = ps.flags & GUP_PS_DIRTY;
	w->pfn = ps.pfn;
	w->head = ps.pfn & ~((1ULL << ps.order) - 1);
	w->order = ps.order;
	w->refcount = ps.refcount;
	w->nid = ps.nid;
}

/*
 * A file beside m's, of m's size, written with byte c and synced; if busy,
 * written once more and left dirty.
 */
static int donor_file(struct mem *m, unsigned char c, bool busy)
{
	char path[PATH_MAX + 8];
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s.donor", m->path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	unlink(path);
	buf = malloc(m->size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	memset(buf, c, m->size);
	if (pwrite(fd, buf, m->size, 0) != (ssize_t)m->size || fsync(fd) ||
	    (busy && pwrite(fd, buf, m->size, 0) != (ssize_t)m->size)) {
		free(buf);
		close(fd);
		return -EIO;
	}
	free(buf);
	return fd;
}

/*
 * The migration cases need a second node; the suite's guest has two, and
 * a machine with one cannot ask the question.
 */
static bool one_node(struct __test_metadata *_metadata)
{
	bool one = access("/sys/devices/system/node/node1", F_OK);

	ASSERT_FALSE(one && in_suite_guest())
		TH_LOG("the suite's guest has two NUMA nodes");
	return one;
}

/*
 * vm.compact_memory sweeps a zone up from its start until it meets the
 * free scanner, which comes down from the end over the blocks that have
 * free pages among used ones: in a near-empty zone, the sweep would stop
 * at the first block in use, and the held pages would have nowhere to go.
 * So the held file is made on node 1 below (some of) a spacer of
 * anonymous THPs, 32 MiB. Before compaction the spacer below the held
 * pages is freed, and above them all but one page in 16, the THPs split so
 * that the pages go back to the free lists: the free scanner finds room
 * there for whatever the sweep meets first, and one of the pages left
 * above the held ones that moved shows the sweep went past them.
 * The page kept is at offset 7 of the 16: a free scanner that has found
 * nothing for a while looks at every 2^n-th page of a block alone, and
 * must land on a free one.
 */
#define SPACER_PAGES	8192
#define SPACER_KEEP	16
#define SPACER_KEPT(pfn)	((pfn) % SPACER_KEEP == SPACER_KEEP / 2 - 1)
#define PCP_FRACTION	"/proc/sys/vm/percpu_pagelist_high_fraction"
static char *spacer;

/*
 * The spacer, then m's file made anew on node 1, below some of it: a file
 * that lands above all of the spacer is kept aside (so that its pages are
 * not handed out again) and another made, eight files at most.
 */
#define FILE_TRIES	8
static void mem_on_node1(struct __test_metadata *_metadata, struct mem *m)
{
	static __u64 pfn[SPACER_PAGES];
	size_t len = SPACER_PAGES * page_size, i;
	unsigned long mask = 1UL << 1;
	struct mem aside[FILE_TRIES];
	int ret = 0, tries;
	__u64 p, top = 0, spacer_top = 0;
	char why[256];

	mem_teardown(m);
	/* In THPs where it can: whole pageblocks, whatever lies around. */
	spacer = mmap(NULL, len + pmd_size(), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, spacer);
	spacer = (char *)(((uintptr_t)spacer + pmd_size() - 1) &
			  ~(pmd_size() - 1));
	madvise(spacer, len, MADV_HUGEPAGE);	/* fails without THP: fine */
	ASSERT_EQ(0, syscall(SYS_set_mempolicy, MPOL_BIND, &mask,
			     sizeof(mask) * 8));
	memset(spacer, OWNER, len);
	ASSERT_EQ(0, pagemap_pfns(spacer, SPACER_PAGES, pfn));
	for (i = 0; i < SPACER_PAGES; i++)
		spacer_top = pfn[i] > spacer_top ? pfn[i] : spacer_top;
	for (tries = 0; tries < FILE_TRIES; tries++) {
		ret = mem_setup(m, MEM_FILE_SHARED, NR_PAGES, why, sizeof(why));
		if (ret)
			break;
		for (i = 0, top = 0; i < NR_PAGES; i++) {
			p = pagemap_pfn(m->addr + i * page_size);
			top = p > top ? p : top;
		}
		if (top < spacer_top || tries == FILE_TRIES - 1)
			break;
		aside[tries] = *m;
	}
	ASSERT_EQ(0, syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0));
	while (tries--)
		mem_teardown(&aside[tries]);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

/*
 * vm.compact_memory, run again while no run was seen to sweep past the
 * held pages (whatever lay below them moves up in each), at most four
 * times. Within one run the sweep only goes up.
 */
static void compact(struct __test_metadata *_metadata, struct mem *m)
{
	static __u64 pfn[SPACER_PAGES], now[SPACER_PAGES];
	size_t i, above = 0, moved = 0;
	__u64 top = 0, p;
	char old[32] = "", split[64];
	int fd, run, ret = 0;
	ssize_t n;

	ASSERT_NE(NULL, spacer);
	for (i = 0; i < NR_PAGES; i++) {
		p = pagemap_pfn(m->addr + i * page_size);
		top = p > top ? p : top;
	}
	ASSERT_EQ(0, pagemap_pfns(spacer, SPACER_PAGES, pfn));
	/*
	 * The freed pages must reach the free lists, where the free scanner
	 * looks, not stay on the per-cpu lists: those are cut to their
	 * least while the spacer is freed.
	 */
	fd = open(PCP_FRACTION, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, old, sizeof(old) - 1);
	close(fd);
	ASSERT_LT(0, n);
	old[n] = '\0';
	ASSERT_EQ(0, write_value(PCP_FRACTION, "2147483647"));
	for (i = 0; i < SPACER_PAGES && !ret; i++)
		if (pfn[i] <= top || !SPACER_KEPT(pfn[i]))
			ret = madvise(spacer + i * page_size, page_size,
				      MADV_DONTNEED);
	/* A THP partly unmapped gives back its pages once split. */
	snprintf(split, sizeof(split), "%d,%#lx,%#lx", getpid(),
		 (unsigned long)spacer,
		 (unsigned long)spacer + SPACER_PAGES * page_size);
	if (!ret && !access(SPLIT_HUGE_PAGES, W_OK))
		ret = write_value(SPLIT_HUGE_PAGES, split);
	ASSERT_EQ(0, write_value(PCP_FRACTION, old));
	ASSERT_EQ(0, ret);
	for (run = 1; run <= 4 && !moved; run++) {
		ASSERT_EQ(0, pagemap_pfns(spacer, SPACER_PAGES, pfn));
		ASSERT_EQ(0, write_value("/proc/sys/vm/compact_memory", "1"));
		ASSERT_EQ(0, pagemap_pfns(spacer, SPACER_PAGES, now));
		for (i = 0, above = 0; i < SPACER_PAGES; i++) {
			above += pfn[i] > top;
			moved += pfn[i] > top && now[i] != pfn[i];
		}
	}
	/*
	 * Where nothing above moved, the sweep was not seen to pass them (it
	 * may have, and met the free scanner above them): said, not failed,
	 * as the layout of the node, not the kernel, decides it.
	 */
	gup_report("compaction run %d moved %zu of the %zu spacer pages above the held pages: %s\n",
		   run - 1, moved, above,
		   moved ? "the sweep went past them" :
			   "the sweep was not seen to reach them");
}

static void act(struct __test_metadata *_metadata, struct mem *m,
		enum action a, int nid)
{
	unsigned long mask;
	void *buf;
	int fd, node, ret;

	switch (a) {
	case ACT_NONE:
		break;
	case ACT_PAGEOUT:
		ASSERT_EQ(0, madvise(m->addr, m->size, MADV_PAGEOUT));
		break;
	case ACT_PAGEOUT_ONE:
		ASSERT_EQ(0, madvise(m->addr + page_size, page_size,
				     MADV_PAGEOUT));
		break;
	case ACT_MEMCG_RECLAIM:
		/*
		 * More than the cgroup can give back, for a whole pass over
		 * its pages: EAGAIN says it gave back less.
		 */
		ret = cgroup_write("memory.reclaim", "64M");
		gup_report("memory.reclaim: %s\n", ret ? strerror(-ret) : "done");
		ASSERT_TRUE(!ret || ret == -EAGAIN);
		break;
	case ACT_SPLIT: {
		char cmd[PATH_MAX + 32];

		snprintf(cmd, sizeof(cmd), "%s,0x0,0x%zx", m->path,
			 m->size / page_size);
		ASSERT_EQ(0, write_value(SPLIT_HUGE_PAGES, cmd));
		break;
	}
	case ACT_COLD:
		ASSERT_EQ(0, madvise(m->addr, m->size, MADV_COLD));
		break;
	case ACT_DROP_CACHES:
		sync();
		ASSERT_EQ(0, write_value("/proc/sys/vm/drop_caches", "3"));
		break;
	case ACT_FADV_DONTNEED:
		ASSERT_EQ(0, posix_fadvise(m->fd, 0, m->size,
					   POSIX_FADV_DONTNEED));
		break;
	case ACT_COMPACT:
		compact(_metadata, m);
		break;
	case ACT_MOVE_PAGES: {
		void *pages[NR_PAGES];
		int nodes[NR_PAGES], status[NR_PAGES];
		size_t i;

		node = !nid;
		for (i = 0; i < NR_PAGES; i++) {
			pages[i] = m->addr + i * page_size;
			nodes[i] = node;
			status[i] = INT_MIN;
		}
		ret = syscall(SYS_move_pages, 0, NR_PAGES, pages, nodes,
			      status, MPOL_MF_MOVE);
		/*
		 * Some left behind: how many the count says depends on how
		 * the kernel batches a large folio's pages (7.3 counts one
		 * page of a folio of four busy, three not moved). That none
		 * moved, the witness below says page by page.
		 */
		gup_report("move_pages: %d not moved, status %d %d %d %d\n",
			   ret, status[0], status[1], status[2], status[3]);
		ASSERT_LT(0, ret);
		ASSERT_GE(NR_PAGES, ret);
		break;
	}
	case ACT_MBIND:
		node = !nid;
		mask = 1UL << node;
		ret = syscall(SYS_mbind, m->addr, m->size, MPOL_BIND, &mask,
			      sizeof(mask) * 8, MPOL_MF_MOVE);
		gup_report("mbind: %d (%s)\n", ret, ret ? strerror(errno) : "");
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, syscall(SYS_mbind, m->addr, m->size, MPOL_DEFAULT,
				     NULL, 0, 0));
		break;
	case ACT_TRUNCATE:
		ASSERT_EQ(0, ftruncate(m->fd, 0));
		ASSERT_EQ(0, ftruncate(m->fd, m->size));
		break;
	case ACT_PUNCH_HOLE:
		ASSERT_EQ(0, fallocate(m->fd, FALLOC_FL_PUNCH_HOLE |
				       FALLOC_FL_KEEP_SIZE, 0, m->size));
		break;
	case ACT_DIO_WRITE:
		ASSERT_EQ(0, posix_memalign(&buf, page_size, m->size));
		memset(buf, OWNER, m->size);
		fd = open(m->path, O_WRONLY | O_DIRECT);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)m->size, pwrite(fd, buf, m->size, 0));
		close(fd);
		free(buf);
		break;
	case ACT_MOVE_EXT:
	case ACT_MOVE_EXT_BUSY: {
		struct move_extent me = { .len = m->size / page_size };
		bool busy = a == ACT_MOVE_EXT_BUSY;

		fd = donor_file(m, OWNER, busy);
		ASSERT_LE(0, fd);
		me.donor_fd = fd;
		ret = ioctl(m->fd, EXT4_IOC_MOVE_EXT, &me);
		gup_report("EXT4_IOC_MOVE_EXT: %d (%s), moved %llu blocks\n",
			   ret, ret ? strerror(errno) : "",
			   (unsigned long long)me.moved_len);
		if (busy) {
			/* The donor's dirty buffers cannot be released. */
			ASSERT_EQ(-1, ret);
			ASSERT_EQ(EBUSY, errno);
			ASSERT_EQ(0, me.moved_len);
		} else {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(me.len, me.moved_len);
		}
		close(fd);
		break;
	}
	}
}

static void *dio_read(void *arg)
{
	struct holder *h = arg;

	h->ret = pread(h->dev, h->addr, h->size, 0);
	if (h->ret < 0)
		h->ret = -errno;
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Lift the throttle and wait for the read, if one is in flight. */
static void dio_finish(struct holder *h)
{
	char val[64];

	if (!h->reading)
		return;
	snprintf(val, sizeof(val), "%s rbps=max", h->throttle);
	if (cgroup_write("io.max", val))
		gup_report("cannot lift the throttle: %s\n", strerror(errno));
	pthread_join(h->reader, NULL);
	h->reading = false;
}

/*
 * Take the pages: the module's session, or the read, once its bio holds
 * every page (a reference more than the mapping's).
 */
static void hold(struct __test_metadata *_metadata, int gup_fd,
		 struct mem *m, struct holder *h, const struct witness *before)
{
	struct witness w;
	char val[64];
	__u64 pinned;
	size_t i;
	int tries;

	if (!h->dio) {
		ASSERT_EQ(0, gup_pin(gup_fd, m->addr, m->size, h->api,
				     GUP_PIN_WRITE, &h->id, &pinned));
		ASSERT_EQ(NR_PAGES, pinned);
		return;
	}
	/* 512 bytes a second: the 16 KiB read waits half a minute. */
	snprintf(val, sizeof(val), "%s rbps=512", h->throttle);
	ASSERT_EQ(0, cgroup_write("io.max", val));
	h->addr = m->addr;
	h->size = m->size;
	h->done = 0;
	ASSERT_EQ(0, pthread_create(&h->reader, NULL, dio_read, h));
	h->reading = true;
	/*
	 * Held once every folio has gained what the read takes of it: a
	 * reference per page, or a pin (GUP_PIN_COUNTING_BIAS on a small
	 * folio). A large folio's count is its pages' together: the first
	 * page pinned does not mean the last is.
	 */
	for (tries = 0; tries < 2000; tries++) {
		for (i = 0; i < NR_PAGES; i++) {
			int unit, need = 0;
			size_t j;

			witness(_metadata, gup_fd, m->addr + i * page_size, &w);
			unit = api_pins(h->api) && !w.order ? GUP_BIAS : 1;
			for (j = 0; j < NR_PAGES; j++)
				need += before[j].head == w.head ? unit : 0;
			if (w.refcount - before[i].refcount < need)
				break;
		}
		if (i == NR_PAGES)
			break;
		usleep(1000);
	}
	ASSERT_EQ(NR_PAGES, i) TH_LOG("the read did not take page %zu within 2 s", i);
	ASSERT_FALSE(__atomic_load_n(&h->done, __ATOMIC_ACQUIRE))
		TH_LOG("the read finished at once: %zd", h->ret);
}

/* Page i as the holder has it: the session's page, or the mapping's. */
static void held_state(struct __test_metadata *_metadata, int gup_fd,
		       struct mem *m, const struct holder *h, size_t i,
		       struct witness *w)
{
	if (h->dio)
		witness(_metadata, gup_fd, m->addr + i * page_size, w);
	else
		witness_held(_metadata, gup_fd, h->id, i, w);
}

/*
 * The device writes every page and the holder lets go, marking them dirty:
 * the module's DMA and unpin, or the read's data and completion.
 */
static void release(struct __test_metadata *_metadata, int gup_fd,
		    struct mem *m, struct holder *h, unsigned char *buf)
{
	if (!h->dio) {
		memset(buf, NEW, m->size);
		ASSERT_EQ(0, gup_dma(gup_fd, h->id, GUP_DMA_TO_PAGES, 0, buf,
				     m->size));
		ASSERT_EQ(0, gup_unpin(gup_fd, h->id, api_pins(h->api) ?
					GUP_UNPIN_DEVICE_DIRTY :
					GUP_UNPIN_PUT_DEVICE_DIRTY));
		return;
	}
	ASSERT_FALSE(__atomic_load_n(&h->done, __ATOMIC_ACQUIRE))
		TH_LOG("the read finished before the action did: %zd", h->ret);
	dio_finish(h);
	ASSERT_EQ((ssize_t)m->size, h->ret);
}

/*
 * What becomes of page i's data, w its folio as held, and the kernel bug
 * that decides it, if one does.
 */
static enum outcome page_outcome(const struct holder *h, enum action a,
				 size_t i, const struct witness *w,
				 enum bug *bug)
{
	enum outcome o;

	*bug = BUG_NONE;
	switch (a) {
	case ACT_MOVE_EXT_BUSY:
		/* The move gives up in the file's first folio. */
		if (w[i].head != w[0].head)
			return KEPT;
		*bug = BUG_MOVE_EXT_BUSY;
		return LOST;
	case ACT_PAGEOUT_ONE:
	case ACT_SPLIT:
		/* The split of page 1's folio, or of any, frees its buffers. */
		if (w[i].order && (a == ACT_SPLIT || w[i].head == w[1].head)) {
			*bug = BUG_SPLIT_FREES_BUFFERS;
			return LOST;
		}
		break;
	default:
		break;
	}
	o = expected(h->api, a, i, w[i].order);
	if (o == LOST && h->dio && !api_pins(h->api))
		*bug = BUG_DIO_BY_REFERENCE;
	return o;
}

/* One case: the fixture's gup_test file, kernel log and memory. */
static void run_case(struct __test_metadata *_metadata, int gup_fd,
		     int kmsg, struct mem *m, struct holder *h, enum action a)
{
	enum bug bug = BUG_NONE, page_bug;
	enum outcome want[NR_PAGES];
	char lost_pages[4 * NR_PAGES] = "";
	bool lost = false;
	struct witness before[NR_PAGES], held[NR_PAGES], w[NR_PAGES];
	unsigned char *buf, fill;
	char reports[1024];
	size_t i, j;
	int nr;

	SETUP_SKIPPED(return);
	buf = malloc(m->size);
	ASSERT_NE(NULL, buf);

	/* 1. On the disk, clean, with buffers: the page as writeback left it. */
	memset(buf, OLD, m->size);
	ASSERT_EQ((ssize_t)m->size, pwrite(m->fd, buf, m->size, 0));
	ASSERT_EQ(0, fsync(m->fd));
	for (i = 0; i < NR_PAGES; i++) {
		witness(_metadata, gup_fd, m->addr + i * page_size,
			&before[i]);
		ASSERT_TRUE(before[i].cached);
		ASSERT_TRUE(before[i].buffers);
		ASSERT_FALSE(before[i].dirty);
	}

	/*
	 * 2. Held for write; the write fault dirtied it; writeback cleans it.
	 * On 7.3 a page was now and then dirty after the first fsync(), seen
	 * only after a case that left a folio without buffers (an XFAIL or a
	 * kernel mutant): the start of the case, not what it tests, so
	 * writeback is asked again, up to three times.
	 */
	hold(_metadata, gup_fd, m, h, before);
	for (j = 0; j < 3; j++) {
		ASSERT_EQ(0, fsync(m->fd));
		for (i = 0; i < NR_PAGES; i++) {
			held_state(_metadata, gup_fd, m, h, i, &w[i]);
			if (w[i].dirty)
				break;
		}
		if (i == NR_PAGES)
			break;
		gup_report("page %zu dirty after fsync() %zu\n", i, j + 1);
	}
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_FALSE(w[i].dirty);
		ASSERT_TRUE(w[i].buffers);
		ASSERT_EQ(before[i].pfn, w[i].pfn);
	}
	for (i = 0; i < NR_PAGES; i++) {
		want[i] = page_outcome(h, a, i, w, &page_bug);
		if (page_bug)
			bug = page_bug;
		if (want[i] == LOST) {
			lost = true;
			snprintf(lost_pages + strlen(lost_pages),
				 sizeof(lost_pages) - strlen(lost_pages),
				 " %zu", i);
		}
	}
	ASSERT_EQ(0, kmsg_reports(kmsg, reports, sizeof(reports)))
		TH_LOG("before the action: %s", reports);
	/*
	 * The case marks its start in the log once it knows what to expect:
	 * a case that shows a known bug names it, and klog.expected accepts
	 * the bug's reports from cases so named alone.
	 */
	kmsg_begin(h->name, a, bug ? bug_name[bug] : NULL);

	/* 3. The action, and what it did to the held pages. */
	act(_metadata, m, a, before[0].nid);
	for (i = 0; i < NR_PAGES; i++) {
		held_state(_metadata, gup_fd, m, h, i, &held[i]);
		gup_report("page %zu after the action: %s, %s, %s\n", i,
			   held[i].cached ? "in the page cache" :
					    "out of the page cache",
			   held[i].buffers ? "buffers attached" : "no buffers",
			   held[i].dirty ? "dirty" : "clean");
		ASSERT_EQ(want[i] != HOLE && want[i] != OVERWRITTEN,
			  held[i].cached);
		ASSERT_EQ(want[i] == KEPT, held[i].buffers)
			TH_LOG("page %zu %s its buffers%s%s", i,
			       held[i].buffers ? "kept" : "lost",
			       bug ? "; the kernel does not show the known bug: " : "",
			       bug ? bug_what[bug] : "");
		ASSERT_EQ(before[i].pfn, held[i].pfn)
			TH_LOG("the held page moved: the holder has it");
		ASSERT_EQ(w[i].order, held[i].order)
			TH_LOG("page %zu: a held folio of order %u split to %u",
			       i, w[i].order, held[i].order);
	}

	/* 4. The device writes every page; 5. the release marks them. */
	release(_metadata, gup_fd, m, h, buf);

	/* 6. Written back, unmapped and evicted; the disk decides. */
	ASSERT_EQ(0, fsync(m->fd));
	ASSERT_EQ(0, munmap(m->map, m->map_size));
	m->map = NULL;
	ASSERT_EQ(0, posix_fadvise(m->fd, 0, m->size, POSIX_FADV_DONTNEED));
	ASSERT_EQ(0, read_disk(m->path, 0, buf, m->size));
	for (i = 0; i < NR_PAGES; i++) {
		static const unsigned char fills[] = {
			[KEPT] = NEW, [HOLE] = 0, [OVERWRITTEN] = OWNER,
			[LOST] = OLD,
		};

		fill = fills[want[i]];
		for (j = 0; j < page_size && buf[i * page_size + j] == fill; j++)
			;
		ASSERT_EQ(page_size, j)
			TH_LOG("page %zu on disk: byte %zu is %#x, %s wants %#x",
			       i, j, buf[i * page_size + j],
			       outcome_name[want[i]], fill);
	}

	/* 7. The kernel log: ext4's own account of a loss, and only then. */
	nr = kmsg_reports(kmsg, reports, sizeof(reports));
	if (lost) {
		ASSERT_NE(NULL, strstr(reports, EXT4_NO_BUFFERS))
			TH_LOG("kernel log: %s", reports);
		gup_report("kernel log: %s\n", reports);
	} else {
		ASSERT_EQ(0, nr) TH_LOG("kernel log: %s", reports);
	}
	gup_report("%s%s, %s: %s %s %s %s: %s\n", h->dio ? "O_DIRECT read, " : "",
		   api_name(h->api), action_name[a],
		   outcome_name[want[0]], outcome_name[want[1]],
		   outcome_name[want[2]], outcome_name[want[3]],
		   bug ? bug_name[bug] : why(h->api, a));
	kmsg_end();
	free(buf);
	if (bug) {
		snprintf(reports, sizeof(reports),
			 "known kernel bug: %s: the device's data lost in page(s)%s, the disk keeps %#x",
			 bug_what[bug], lost_pages, OLD);
		known_bug_seen(_metadata, reports);
	}
}

/* Nothing happens: the control. */
TEST_F(pagecache, none)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_NONE);
}

/* Reclaim of the range: a pin keeps the buffers, a reference does not. */
TEST_F(pagecache, pageout)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_PAGEOUT);
}

/* Reclaim of page 1 alone: of a large folio, a split first. */
TEST_F(pagecache, pageout_one)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_PAGEOUT_ONE);
}

/*
 * Reclaim by the memory cgroup the file's pages are charged to: the
 * fixture's file is made anew from within it.
 */
TEST_F(pagecache, memcg_reclaim)
{
	static const char *const memory[] = { "memory", NULL };
	char why[256];
	const char *skip;

	SETUP_SKIPPED(return);
	skip = cgroup_enter(memory);
	if (skip)
		SKIP(return, "%s", skip);
	mem_teardown(&self->mem);
	ASSERT_EQ(0, mem_setup(&self->mem, MEM_FILE_SHARED, NR_PAGES, why,
			       sizeof(why)))
		TH_LOG("%s", why);
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MEMCG_RECLAIM);
}

/* Deactivation only. */
TEST_F(pagecache, cold)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_COLD);
}

/* The clean page cache dropped, mapped pages aside. */
TEST_F(pagecache, drop_caches)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_DROP_CACHES);
}

/* The file's owner asks for the range to be dropped. */
TEST_F(pagecache, fadv_dontneed)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_FADV_DONTNEED);
}

/* Compaction, from the file on node 1: the held page cannot be migrated. */
TEST_F(pagecache, compact)
{
	SETUP_SKIPPED(return);
	if (one_node(_metadata))
		SKIP(return, "needs two NUMA nodes");
	mem_on_node1(_metadata, &self->mem);
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_COMPACT);
}

/* Migration to the other node, asked for by the page. */
TEST_F(pagecache, move_pages)
{
	SETUP_SKIPPED(return);
	if (one_node(_metadata))
		SKIP(return, "needs two NUMA nodes");
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MOVE_PAGES);
}

/* Migration to the other node, asked for by the policy. */
TEST_F(pagecache, mbind)
{
	SETUP_SKIPPED(return);
	if (one_node(_metadata))
		SKIP(return, "needs two NUMA nodes");
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MBIND);
}

/* A split of the file's large folios asked for through debugfs. */
TEST_F(pagecache, split)
{
	SETUP_SKIPPED(return);
	if (access(SPLIT_HUGE_PAGES, W_OK))
		SKIP(return, "no %s: needs CONFIG_TRANSPARENT_HUGEPAGE",
		     SPLIT_HUGE_PAGES);
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_SPLIT);
}

/* The range leaves the file and comes back as a hole. */
TEST_F(pagecache, truncate)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_TRUNCATE);
}

/* The same, through a hole punched. */
TEST_F(pagecache, punch_hole)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_PUNCH_HOLE);
}

/* The file's owner writes the range with O_DIRECT. */
TEST_F(pagecache, dio_write)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_DIO_WRITE);
}

/* e4defrag's ioctl moves the range's blocks: the page gets new buffers. */
TEST_F(pagecache, move_ext)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MOVE_EXT);
}

/* The same, from a donor whose page is dirty: the move gives up. */
TEST_F(pagecache, move_ext_busy)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MOVE_EXT_BUSY);
}

/*
 * The kernel's own short-term hold: an O_DIRECT read into the file's
 * mapping, from a RAM disk (brd), in flight while the action is taken. The
 * case's cgroup throttles the disk's reads (io.max) until then, so that
 * the read's bio holds the pages and the data comes after the action.
 * The actions are those that leave the page in the file, where the
 * mapping still shows it; a page the file lets go of, only a session of
 * the module can follow (the pagecache cases).
 */
#define RAM_DISK	"/dev/ram0"

FIXTURE(dio_inflight)
{
	int fd;
	int kmsg;
	struct mem mem;
	struct holder holder;
};

/*
 * Where the read comes from: the RAM disk itself (block/fops.c, which
 * dirties the pages when the read completes), or a file on the test file
 * system, its disk throttled instead (iomap, which dirties them before the
 * read and again after it where writeback cleaned them meanwhile).
 */
FIXTURE_VARIANT(dio_inflight)
{
	bool file;
	const char *pin_name, *get_name;
};

FIXTURE_VARIANT_ADD(dio_inflight, brd)
{
	.pin_name = "dio_inflight.pin", .get_name = "dio_inflight.get",
};

FIXTURE_VARIANT_ADD(dio_inflight, file)
{
	.file = true,
	.pin_name = "dio_inflight.file.pin",
	.get_name = "dio_inflight.file.get",
};

/* The source file of a read from the test file system, holding NEW. */
static int dio_source_file(struct __test_metadata *_metadata, size_t size)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	char path[PATH_MAX];
	void *buf;
	int fd;

	ASSERT_NE(NULL, dir) TH_LOG("GUP_TEST_FS_DIR is not set");
	snprintf(path, sizeof(path), "%s/gup_dio_source.XXXXXX", dir);
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, posix_memalign(&buf, page_size, size));
	memset(buf, NEW, size);
	ASSERT_EQ((ssize_t)size, pwrite(fd, buf, size, 0));
	free(buf);
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	fd = open(path, O_RDONLY | O_DIRECT);
	unlink(path);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	return fd;
}

FIXTURE_SETUP(dio_inflight)
{
	static const char *const controllers[] = { "memory", "io", NULL };
	const char *skip;
	struct stat st;
	char val[64];
	void *buf;
	int pins, err;

	self->kmsg = -1;
	self->fd = -1;
	self->mem.fd = -1;	/* the teardown's, should the setup skip first */
	self->holder.dev = -1;
	self->holder.dio = true;
	skip = cgroup_enter(controllers);
	if (skip) {
		ASSERT_FALSE(in_suite_guest()) TH_LOG("%s", skip);
		SETUP_SKIP(return, "%s", skip);
	}
	if (variant->file) {
		if (!getenv("GUP_TEST_FS_DIR")) {
			ASSERT_FALSE(in_suite_guest()) TH_LOG("GUP_TEST_FS_DIR is not set");
			SETUP_SKIP(return, "GUP_TEST_FS_DIR is not set: no test filesystem");
		}
		self->holder.dev = dio_source_file(_metadata, NR_PAGES * page_size);
		ASSERT_EQ(0, fstat(self->holder.dev, &st));
		st.st_rdev = st.st_dev;
	} else {
		self->holder.dev = open(RAM_DISK, O_RDWR | O_DIRECT);
		if (self->holder.dev < 0) {
			ASSERT_FALSE(in_suite_guest())
				TH_LOG("%s: %s", RAM_DISK, strerror(errno));
			SETUP_SKIP(return, "no %s: needs brd (CONFIG_BLK_DEV_RAM)",
				   RAM_DISK);
		}
		ASSERT_EQ(0, fstat(self->holder.dev, &st));
	}
	snprintf(self->holder.throttle, sizeof(self->holder.throttle),
		 "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	snprintf(val, sizeof(val), "%s rbps=max", self->holder.throttle);
	err = cgroup_write("io.max", val);
	if (err) {
		ASSERT_FALSE(in_suite_guest()) TH_LOG("io.max: %s", strerror(-err));
		SETUP_SKIP(return,
			   "io.max \"%s\": %s: needs CONFIG_BLK_DEV_THROTTLING and a whole disk",
			   val, strerror(-err));
	}
	/* The file is made in the cgroup: memcg_reclaim reclaims it there. */
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, MEM_FILE_SHARED,
			     NR_PAGES);
	pins = kernel_expect()->dio_pins;
	ASSERT_LE(0, pins) TH_LOG("direct I/O pins could not be probed");
	self->holder.api = pins ? GUP_API_PUP : GUP_API_GUP;
	self->holder.name = pins ? variant->pin_name : variant->get_name;
	/* What the device has for the read. */
	if (!variant->file) {
		ASSERT_EQ(0, posix_memalign(&buf, page_size, self->mem.size));
		memset(buf, NEW, self->mem.size);
		ASSERT_EQ((ssize_t)self->mem.size,
			  pwrite(self->holder.dev, buf, self->mem.size, 0));
		free(buf);
	}
	self->kmsg = case_log(_metadata, &self->mem);
}

FIXTURE_TEARDOWN(dio_inflight)
{
	dio_finish(&self->holder);
	if (self->holder.dev >= 0)
		close(self->holder.dev);
	case_end(self->fd, self->kmsg, &self->mem);
}

/* Nothing happens while the read is in flight: the control. */
TEST_F(dio_inflight, none)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_NONE);
}

/* Reclaim of the range while the read holds it. */
TEST_F(dio_inflight, pageout)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_PAGEOUT);
}

/* Reclaim of page 1 alone. */
TEST_F(dio_inflight, pageout_one)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_PAGEOUT_ONE);
}

/* Reclaim by the cgroup the file is charged to. */
TEST_F(dio_inflight, memcg_reclaim)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MEMCG_RECLAIM);
}

/* Deactivation only. */
TEST_F(dio_inflight, cold)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_COLD);
}

/* The clean page cache dropped. */
TEST_F(dio_inflight, drop_caches)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_DROP_CACHES);
}

/* The file's owner asks for the range to be dropped. */
TEST_F(dio_inflight, fadv_dontneed)
{
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_FADV_DONTNEED);
}

/* Compaction, from the file on node 1. */
TEST_F(dio_inflight, compact)
{
	SETUP_SKIPPED(return);
	if (one_node(_metadata))
		SKIP(return, "needs two NUMA nodes");
	mem_on_node1(_metadata, &self->mem);
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_COMPACT);
}

/* Migration to the other node, asked for by the page. */
TEST_F(dio_inflight, move_pages)
{
	SETUP_SKIPPED(return);
	if (one_node(_metadata))
		SKIP(return, "needs two NUMA nodes");
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MOVE_PAGES);
}

/* Migration to the other node, asked for by the policy. */
TEST_F(dio_inflight, mbind)
{
	SETUP_SKIPPED(return);
	if (one_node(_metadata))
		SKIP(return, "needs two NUMA nodes");
	run_case(_metadata, self->fd, self->kmsg, &self->mem, &self->holder,
		 ACT_MBIND);
}

/*
 * The move_ext cases' control: pages nobody holds. EXT4_IOC_MOVE_EXT
 * copies the file's data into the donor's blocks by dirtying the file's
 * pages over them; once written back, the disk has the file's bytes, not
 * the donor's. (Where a pin holds the pages, the dirty unpin would write
 * them anyway.)
 */
TEST(move_ext_unheld)
{
	struct move_extent me = { .len = NR_PAGES };
	unsigned char *buf;
	struct mem m;
	int ret, donor;
	size_t i;

	MEM_SETUP_OR_SKIP(return, &m, MEM_FILE_SHARED, NR_PAGES);
	buf = malloc(m.size);
	ASSERT_NE(NULL, buf);
	memset(buf, OLD, m.size);
	ASSERT_EQ((ssize_t)m.size, pwrite(m.fd, buf, m.size, 0));
	ASSERT_EQ(0, fsync(m.fd));
	donor = donor_file(&m, OWNER, false);
	ASSERT_LE(0, donor);
	me.donor_fd = donor;
	ret = ioctl(m.fd, EXT4_IOC_MOVE_EXT, &me);
	if (ret && errno == ENOTTY) {
		ASSERT_FALSE(in_suite_guest()) TH_LOG("the test file system is ext4");
		SKIP(goto out, "EXT4_IOC_MOVE_EXT: the test file system is not ext4");
	}
	ASSERT_EQ(0, ret) TH_LOG("EXT4_IOC_MOVE_EXT: %s", strerror(errno));
	ASSERT_EQ(me.len, me.moved_len);
	ASSERT_EQ(0, fsync(m.fd));
	ASSERT_EQ(0, read_disk(m.path, 0, buf, m.size));
	for (i = 0; i < m.size && buf[i] == OLD; i++)
		;
	ASSERT_EQ(m.size, i)
		TH_LOG("byte %zu on disk is %#x: the moved data was not written to the new blocks",
		       i, buf[i]);
out:
	close(donor);
	free(buf);
	mem_teardown(&m);
}

/*
 * A read-only FOLL_LONGTERM pin of a MAP_PRIVATE file range that one
 * PMD-sized page-cache folio backs, mapped by a PMD. Where the kernel
 * unshares such a pin (gup_must_unshare(): a file page in a COW mapping),
 * the pinned page must be an anonymous copy, as it is where PTEs map the
 * same folio; where it does not (6.1), the file's page. 6.12 and 7.3
 * instead fault forever: the unshare fault splits the file PMD, which
 * unmaps it, and goes on as a read fault that maps the folio by a PMD
 * again (docs/kernel-bugs/file-pmd-unshare-livelock.md). The pin runs in
 * a child, killed after FILE_PMD_LIMIT_MS.
 */
#define FILE_PMD_UNSHARE_BUG \
	"mm: a read-only long-term pin of a PMD-mapped file folio in a private mapping faults forever (docs/kernel-bugs/file-pmd-unshare-livelock.md)"
#define FILE_PMD_LIMIT_MS	5000

enum pin_outcome { PIN_ANON, PIN_FILE, PIN_NOT_PMD, PIN_FAILED };

/*
 * In a child: path mapped MAP_PRIVATE at a PMD boundary, by a PMD or, with
 * nohuge, by PTEs; its first page read, then pinned read-only, long-term.
 * What the pin returned, or -1 if it did not within FILE_PMD_LIMIT_MS.
 */
static int ro_longterm_pin_in_child(const char *path, bool nohuge)
{
	size_t pmd = pmd_size();
	int status, i, out = PIN_FAILED;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return PIN_FAILED;
	if (!pid) {
		struct gup_page_state ps;
		int fd = open(path, O_RDONLY), dev = gup_open();
		char *resv, *p;
		__u32 id;

		resv = mmap(NULL, 2 * pmd, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fd < 0 || dev < 0 || resv == MAP_FAILED)
			_exit(PIN_FAILED);
		p = (char *)(((uintptr_t)resv + pmd - 1) & ~(pmd - 1));
		p = mmap(p, pmd, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
		if (p == MAP_FAILED ||
		    madvise(p, pmd, nohuge ? MADV_NOHUGEPAGE : MADV_HUGEPAGE))
			_exit(PIN_FAILED);
		touch_read(p);
		if (!nohuge && smaps_kb(p, "FilePmdMapped") <= 0 &&
		    smaps_kb(p, "ShmemPmdMapped") <= 0)
			_exit(PIN_NOT_PMD);
		if (gup_pin(dev, p, page_size, GUP_API_PUP, GUP_PIN_LONGTERM,
			    &id, NULL) ||
		    gup_state(dev, id, 0, &ps, 1))
			_exit(PIN_FAILED);
		_exit(ps.flags & GUP_PS_ANON ? PIN_ANON : PIN_FILE);
	}
	for (i = 0; i < FILE_PMD_LIMIT_MS / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status))
				out = WEXITSTATUS(status);
			return out;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

FIXTURE(file_pmd)
{
	struct mem mem;
	char path[PATH_MAX];
};

FIXTURE_VARIANT(file_pmd)
{
	bool tmpfs;	/* tmpfs huge=always, else the test file system */
};

FIXTURE_VARIANT_ADD(file_pmd, tmpfs_huge) { .tmpfs = true };
FIXTURE_VARIANT_ADD(file_pmd, test_fs) { .tmpfs = false };

FIXTURE_SETUP(file_pmd)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	char why[256], *buf;
	int ret, fd;

	self->mem.fd = -1;
	self->path[0] = '\0';
	if (!pmd_size()) {
		ASSERT_FALSE(in_suite_guest()) TH_LOG("no THP");
		SETUP_SKIP(return, "no transparent huge pages (hpage_pmd_size)");
	}
	if (variant->tmpfs) {
		ret = mem_setup(&self->mem, MEM_TMPFS_HUGE, 0, why,
				sizeof(why));
		if (ret == KSFT_SKIP) {
			ASSERT_FALSE(in_suite_guest()) TH_LOG("%s", why);
			SETUP_SKIP(return, "%s", why);
		}
		ASSERT_EQ(0, ret) TH_LOG("memory setup: %s", why);
		snprintf(self->path, sizeof(self->path), "%s", self->mem.path);
		return;
	}
	if (!dir) {
		ASSERT_FALSE(in_suite_guest()) TH_LOG("GUP_TEST_FS_DIR is not set");
		SETUP_SKIP(return, "GUP_TEST_FS_DIR is not set: no test filesystem");
	}
	snprintf(self->path, sizeof(self->path), "%s/gup_file_pmd.XXXXXX", dir);
	fd = mkstemp(self->path);
	ASSERT_LE(0, fd);
	buf = malloc(pmd_size());
	ASSERT_NE(NULL, buf);
	memset(buf, 0x4e, pmd_size());
	ASSERT_EQ((ssize_t)pmd_size(), pwrite(fd, buf, pmd_size(), 0));
	free(buf);
	/* Read back by the mapping: readahead in the largest folios. */
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, posix_fadvise(fd, 0, pmd_size(), POSIX_FADV_DONTNEED));
	close(fd);
}

FIXTURE_TEARDOWN(file_pmd)
{
	if (!variant->tmpfs && self->path[0])
		unlink(self->path);
	mem_teardown(&self->mem);
}

TEST_F(file_pmd, ro_longterm_pin)
{
	int ptes, pmd;

	SETUP_SKIPPED(return);
	/* First: the read that fills the page cache maps the folio by a PMD. */
	pmd = ro_longterm_pin_in_child(self->path, false);
	if (pmd == PIN_NOT_PMD) {
		ASSERT_FALSE(variant->tmpfs && in_suite_guest())
			TH_LOG("tmpfs huge=always mapped by no PMD");
		SKIP(return,
		     "the test file system's page cache gave no PMD-mapped folio (no large folios: ext4 before 6.16)");
	}
	/* What the kernel pins where PTEs map the same folio: the expectation. */
	ptes = ro_longterm_pin_in_child(self->path, true);
	ASSERT_TRUE(ptes == PIN_ANON || ptes == PIN_FILE)
		TH_LOG("the pin of the PTE-mapped file: %d", ptes);
	gup_report("read-only long-term pin, PTE-mapped: %s page; PMD-mapped: %s\n",
		   ptes == PIN_ANON ? "an anonymous" : "the file's",
		   pmd < 0 ? "no return in 5 s" :
		   pmd == PIN_ANON ? "an anonymous page" :
		   pmd == PIN_FILE ? "the file's page" : "failed");
	if (pmd < 0 && ptes == PIN_ANON) {
		known_bug_seen(_metadata, FILE_PMD_UNSHARE_BUG);
		return;
	}
	ASSERT_LE(0, pmd)
		TH_LOG("the pin did not return, on a kernel that does not unshare file pages");
	ASSERT_EQ(ptes, pmd)
		TH_LOG("the PMD-mapped folio pinned unlike the PTE-mapped one");
	ASSERT_NE(PIN_ANON, pmd)
		TH_LOG("the pin returned an anonymous copy: the bug is gone: %s",
		       FILE_PMD_UNSHARE_BUG);
}

TEST_HARNESS_MAIN
