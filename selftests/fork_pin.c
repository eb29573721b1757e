// SPDX-License-Identifier: GPL-2.0
/*
 * fork() with pinned pages.
 *
 * A page a device holds through FOLL_PIN in a private mapping stays the
 * parent's at fork(): the child gets a copy (copy_present_page(); a
 * PMD-mapped THP is split first; a hugetlb page is copied from the pool,
 * and fork() fails when the pool has none), so what the device writes
 * later is the parent's alone. A read-only pin of a page that a child
 * already shares unshares it first: the pinned page is the one the parent
 * goes on writing. FOLL_GET does neither, which is the contrast the pin
 * scheme exists for: the child shares the device's page, and a parent
 * that writes after a read-only get leaves the device with the child's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	4
#define OLD		0x3c	/* what the parent wrote before fork */
#define NEW		0xa7	/* what the device writes after it */
#define MINE		0x59	/* what the parent writes after it */
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/* A page of the child's, as the child sees it. */
struct seen {
	__u64 pfn;
	unsigned char byte;
};

struct child {
	pid_t pid;
	int go;			/* parent -> child: look now, or quit */
	int answer;		/* child -> parent: struct seen per page */
};

FIXTURE(fork)
{
	int fd;
	struct mem mem;
	struct child child;
};

FIXTURE_VARIANT(fork)
{
	enum mem_kind kind;
	unsigned int api;
};

FIXTURE_VARIANT_ADD(fork, anon_pin) {
	.kind = MEM_ANON, .api = GUP_API_PUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, anon_get) {
	.kind = MEM_ANON, .api = GUP_API_GUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, anon_thp_pin) {
	.kind = MEM_ANON_THP, .api = GUP_API_PUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, anon_thp_get) {
	.kind = MEM_ANON_THP, .api = GUP_API_GUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, anon_mthp0_pin) {
	.kind = MEM_ANON_MTHP, .api = GUP_API_PUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, anon_mthp0_get) {
	.kind = MEM_ANON_MTHP, .api = GUP_API_GUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, hugetlb_2m_pin) {
	.kind = MEM_HUGETLB, .api = GUP_API_PUP_FAST,
};

FIXTURE_VARIANT_ADD(fork, hugetlb_2m_get) {
	.kind = MEM_HUGETLB, .api = GUP_API_GUP_FAST,
};

FIXTURE_SETUP(fork)
{
	self->child.pid = -1;
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, variant->kind,
			     NR_PAGES);
	if (!pagemap_pfn(self->mem.addr)) {
		close(self->fd);
		self->fd = -1;
		mem_teardown(&self->mem);
		SETUP_SKIP(return, "no pfns in pagemap: needs root");
	}
	memset(self->mem.addr, OLD, NR_PAGES * page_size);
}

static void child_end(struct child *c)
{
	if (c->pid < 0)
		return;
	close(c->go);
	close(c->answer);
	waitpid(c->pid, NULL, 0);
	c->pid = -1;
}

FIXTURE_TEARDOWN(fork)
{
	child_end(&self->child);
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
}

/*
 * A child that, each time it is told to, answers with what it maps at
 * addr's first NR_PAGES pages, until its parent closes the pipe.
 */
static void child_start(struct __test_metadata *_metadata, struct child *c,
			const char *addr)
{
	int go[2], answer[2];
	struct seen seen[NR_PAGES];
	char cmd;
	int i;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(answer));
	c->pid = fork();
	ASSERT_LE(0, c->pid) TH_LOG("fork: %s", strerror(errno));
	if (!c->pid) {
		close(go[1]);
		close(answer[0]);
		while (read(go[0], &cmd, 1) == 1) {
			for (i = 0; i < NR_PAGES; i++) {
				seen[i].byte = addr[i * page_size];
				seen[i].pfn = pagemap_pfn(addr + i * page_size);
			}
			if (write(answer[1], seen, sizeof(seen)) != sizeof(seen))
				_exit(1);
		}
		_exit(0);
	}
	close(go[0]);
	close(answer[1]);
	c->go = go[1];
	c->answer = answer[0];
}

static void child_look(struct __test_metadata *_metadata, struct child *c,
		       struct seen *seen)
{
	ASSERT_EQ(1, write(c->go, "?", 1));
	ASSERT_EQ((ssize_t)(NR_PAGES * sizeof(*seen)),
		  read(c->answer, seen, NR_PAGES * sizeof(*seen)));
}

/*
 * Held for write, then fork(): a pinned page stays the parent's and
 * exclusive, the child maps a copy that the device's write does not
 * reach. A page taken with FOLL_GET is shared, and the child sees the
 * device's write.
 */
TEST_F(fork, held_at_fork)
{
	struct gup_page_state held[NR_PAGES], after[NR_PAGES];
	bool pin = api_pins(variant->api);
	struct seen seen[NR_PAGES];
	unsigned char *buf;
	__u32 id;
	int i;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, NR_PAGES * page_size,
			     variant->api, GUP_PIN_WRITE, &id, NULL));
	ASSERT_EQ(0, gup_state(self->fd, id, 0, held, NR_PAGES));
	child_start(_metadata, &self->child, self->mem.addr);

	buf = malloc(NR_PAGES * page_size);
	ASSERT_NE(NULL, buf);
	memset(buf, NEW, NR_PAGES * page_size);
	ASSERT_EQ(0, gup_dma(self->fd, id, GUP_DMA_TO_PAGES, 0, buf,
			     NR_PAGES * page_size));
	free(buf);
	child_look(_metadata, &self->child, seen);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, after,
				    NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		char *p = self->mem.addr + i * page_size;

		ASSERT_EQ(held[i].pfn, after[i].pfn)
			TH_LOG("page %d: the parent lost the held page", i);
		ASSERT_EQ((unsigned char)NEW, (unsigned char)*p);
		if (pin) {
			ASSERT_TRUE(after[i].flags & GUP_PS_ANON_EXCLUSIVE)
				TH_LOG("page %d: a pinned page is shared", i);
			ASSERT_NE(held[i].pfn, seen[i].pfn)
				TH_LOG("page %d: the child maps the pinned page", i);
			ASSERT_EQ(OLD, seen[i].byte)
				TH_LOG("page %d: the child sees the device's write", i);
		} else {
			ASSERT_FALSE(after[i].flags & GUP_PS_ANON_EXCLUSIVE)
				TH_LOG("page %d: fork left a got page exclusive", i);
			ASSERT_EQ(held[i].pfn, seen[i].pfn)
				TH_LOG("page %d: fork copied a got page", i);
			ASSERT_EQ(NEW, seen[i].byte);
		}
	}
	child_end(&self->child);
	ASSERT_EQ(0, gup_unpin(self->fd, id, pin ? GUP_UNPIN_PLAIN :
						   GUP_UNPIN_PUT));
}

/*
 * fork() first, then a read-only hold of the shared pages: a pin unshares
 * them, and the parent's later write reaches the device. A FOLL_GET takes
 * the shared page, the parent's write copies it away, and the device is
 * left with the child's page.
 */
TEST_F(fork, read_hold_after_fork)
{
	struct gup_page_state before[NR_PAGES], held[NR_PAGES];
	struct gup_page_state after[NR_PAGES];
	bool pin = api_pins(variant->api);
	struct seen seen[NR_PAGES];
	unsigned char *buf;
	__u32 id;
	int i;

	SETUP_SKIPPED(return);
	child_start(_metadata, &self->child, self->mem.addr);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before,
				    NR_PAGES));
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_FALSE(before[i].flags & GUP_PS_ANON_EXCLUSIVE)
			TH_LOG("page %d: not shared after fork", i);
	ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, NR_PAGES * page_size,
			     variant->api, 0, &id, NULL));
	ASSERT_EQ(0, gup_state(self->fd, id, 0, held, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++)
		self->mem.addr[i * page_size] = MINE;
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, after,
				    NR_PAGES));
	child_look(_metadata, &self->child, seen);

	buf = malloc(NR_PAGES * page_size);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, gup_dma(self->fd, id, GUP_DMA_FROM_PAGES, 0, buf,
			     NR_PAGES * page_size));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(OLD, seen[i].byte);
		ASSERT_EQ(before[i].pfn, seen[i].pfn)
			TH_LOG("page %d: the child's page moved", i);
		if (pin) {
			ASSERT_NE(before[i].pfn, held[i].pfn)
				TH_LOG("page %d: the pin took the shared page", i);
			ASSERT_EQ(held[i].pfn, after[i].pfn)
				TH_LOG("page %d: the parent's write left the pinned page", i);
			ASSERT_EQ(MINE, buf[i * page_size])
				TH_LOG("page %d: the device does not see the parent's write", i);
		} else {
			ASSERT_EQ(before[i].pfn, held[i].pfn);
			ASSERT_NE(held[i].pfn, after[i].pfn);
			ASSERT_EQ(OLD, buf[i * page_size]);
		}
	}
	free(buf);
	child_end(&self->child);
	ASSERT_EQ(0, gup_unpin(self->fd, id, pin ? GUP_UNPIN_PLAIN :
						   GUP_UNPIN_PUT));
}

/*
 * A pinned hugetlb page must be copied at fork(): with no free page in the
 * pool, fork() fails with ENOMEM, and nothing is left behind.
 */
TEST(hugetlb_pinned_fork_needs_a_page)
{
	long long total, free_pages, left;
	struct pin_ledger ledger;
	char why[256], val[32];
	struct mem m;
	__u32 id;
	pid_t pid;
	int fd, ret, err;

	fd = gup_open();
	if (gup_open_skip(fd))
		SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd);
	pin_ledger_read(&ledger);
	ret = mem_setup(&m, MEM_HUGETLB, 1, why, sizeof(why));
	if (ret == KSFT_SKIP)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	ASSERT_EQ(0, gup_pin(fd, m.addr, page_size, GUP_API_PUP_FAST,
			     GUP_PIN_WRITE, &id, NULL));

	/* The pool shrunk to what is in use, for the fork alone. */
	total = meminfo("HugePages_Total");
	free_pages = meminfo("HugePages_Free");
	ASSERT_LE(0, free_pages);
	snprintf(val, sizeof(val), "%lld", total - free_pages);
	ret = write_value(NR_HUGEPAGES, val);
	left = meminfo("HugePages_Free");
	pid = left || ret ? -2 : fork();
	err = errno;
	if (!pid)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	snprintf(val, sizeof(val), "%lld", total);
	ASSERT_EQ(0, write_value(NR_HUGEPAGES, val));
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", NR_HUGEPAGES, strerror(-ret));
	ASSERT_EQ(0, left) TH_LOG("hugetlb pages still free");
	ASSERT_EQ(-1, pid) TH_LOG("fork shared or stole a pinned hugetlb page");
	ASSERT_EQ(ENOMEM, err);

	ASSERT_EQ(0, gup_unpin(fd, id, GUP_UNPIN_PLAIN));
	mem_teardown(&m);
	close(fd);
	ASSERT_EQ(0, pin_ledger_check(&ledger, why, sizeof(why)))
		TH_LOG("%s", why);
}

TEST_HARNESS_MAIN
