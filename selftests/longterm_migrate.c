// SPDX-License-Identifier: GPL-2.0
/*
 * A long-term pin must not hold a page in ZONE_MOVABLE: the kernel migrates
 * the page first, the mapping follows it and the content comes along. A
 * short-term pin leaves the page where it is.
 *
 * It needs pages in ZONE_MOVABLE, so run_tests.sh runs it alone in a guest
 * booted with movablecore=; elsewhere it skips. Alone, because the other
 * programs pin hugetlb pages long-term, which kernels before v6.6 WARN on
 * when the page is in ZONE_MOVABLE (see kernel_expect()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	4

FIXTURE(migrate)
{
	int fd;
	struct mem mem;
	unsigned int pin_flags;
};

FIXTURE_VARIANT(migrate)
{
	enum mem_kind kind;
};

FIXTURE_VARIANT_ADD(migrate, anon) { .kind = MEM_ANON };
FIXTURE_VARIANT_ADD(migrate, anon_thp) { .kind = MEM_ANON_THP };
/* The smallest multi-size THP: several folios in the range. */
FIXTURE_VARIANT_ADD(migrate, anon_mthp0) { .kind = MEM_ANON_MTHP };
FIXTURE_VARIANT_ADD(migrate, memfd) { .kind = MEM_MEMFD };
FIXTURE_VARIANT_ADD(migrate, memfd_thp) { .kind = MEM_MEMFD_THP };
FIXTURE_VARIANT_ADD(migrate, hugetlb_2m) { .kind = MEM_HUGETLB };
FIXTURE_VARIANT_ADD(migrate, file_shared) { .kind = MEM_FILE_SHARED };
FIXTURE_VARIANT_ADD(migrate, file_private) { .kind = MEM_FILE_PRIVATE };

FIXTURE_SETUP(migrate)
{
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, variant->kind, NR_PAGES);
	self->pin_flags = mem_pin_read_only(variant->kind) ? 0 : GUP_PIN_WRITE;
}

FIXTURE_TEARDOWN(migrate)
{
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
}

static bool booted_with_movablecore(void)
{
	char cmdline[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = 0;
		fclose(f);
	}
	return strstr(cmdline, "movablecore=") || strstr(cmdline, "kernelcore=");
}

#define NOT_MOVABLE \
	"the page is not in ZONE_MOVABLE: boot with movablecore="
#define HUGETLB_WARNS \
	"this kernel WARNs instead of migrating a movable hugetlb page (follow_hugetlb_page(), before v6.6)"

/*
 * Why a case cannot ask for a long-term pin of the first page: it is not in
 * ZONE_MOVABLE, or the kernel would WARN. NULL if it can. Booted for it
 * (movablecore=), the page must be movable: not a skip but a failure.
 */
static const char *movable_skip(struct __test_metadata *_metadata,
				const struct gup_page_state *before)
{
	bool movable = before->flags & GUP_PS_MOVABLE;

	ASSERT_FALSE(!movable && booted_with_movablecore())
		TH_LOG("booted with movablecore=, the page is in zone %u",
		       before->zone);
	if (!movable)
		return NOT_MOVABLE;
	if ((before->flags & GUP_PS_HUGETLB) &&
	    kernel_expect()->longterm_movable_hugetlb_warns)
		return HUGETLB_WARNS;
	return NULL;
}

TEST_F(migrate, out_of_movable)
{
	unsigned int flags = pin_flags_allowed(variant->kind,
					       GUP_PIN_LONGTERM |
					       self->pin_flags);
	struct gup_page_state before, pinned, mapped;
	long long acq0, rel0;
	char content[64];
	const char *why;
	__u32 id;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &before, 1));
	why = movable_skip(_metadata, &before);
	if (why)
		SKIP(return, "%s", why);
	memcpy(content, self->mem.addr, sizeof(content));

	ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, page_size,
			     GUP_API_PUP_FAST, self->pin_flags, &id, NULL));
	ASSERT_EQ(0, gup_state(self->fd, id, 0, &pinned, 1));
	ASSERT_EQ(before.pfn, pinned.pfn);
	ASSERT_EQ(0, gup_unpin(self->fd, id, GUP_UNPIN_PLAIN));

	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, page_size,
			     GUP_API_PUP_FAST, flags, &id, NULL));
	ASSERT_EQ(0, gup_state(self->fd, id, 0, &pinned, 1));
	ASSERT_NE(before.pfn, pinned.pfn);
	ASSERT_EQ(0, pinned.flags & GUP_PS_MOVABLE);
	ASSERT_EQ(GUP_PS_LONGTERM_OK, pinned.flags & GUP_PS_LONGTERM_OK);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &mapped, 1));
	ASSERT_EQ(pinned.pfn, mapped.pfn);
	ASSERT_EQ(0, memcmp(content, self->mem.addr, sizeof(content)));
	/* Pins dropped to migrate are counted both ways: one remains. */
	ASSERT_EQ(1, (vmstat("nr_foll_pin_acquired") - acq0) -
		     (vmstat("nr_foll_pin_released") - rel0));
	ASSERT_EQ(0, gup_unpin(self->fd, id, GUP_UNPIN_PLAIN));
	ASSERT_EQ(vmstat("nr_foll_pin_acquired") - acq0,
		  vmstat("nr_foll_pin_released") - rel0);
}

/*
 * io_uring's buffer registration is a long-term pin too: the page leaves
 * ZONE_MOVABLE before it is registered, with its content, and
 * unregistering gives the pin back.
 */
TEST_F(migrate, uring_register_out_of_movable)
{
	struct iovec iov = { .iov_base = self->mem.addr, .iov_len = page_size };
	int want = uring_register_result(variant->kind);
	struct gup_page_state before, mapped;
	char *more = MAP_FAILED, *p;
	long long acq0, rel0;
	struct io_uring ring;
	char content[64];
	const char *why;
	int ret;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &before, 1));
	/*
	 * The pool gives back first the hugetlb page that out_of_movable
	 * migrated to, outside ZONE_MOVABLE: look further in it.
	 */
	if ((before.flags & (GUP_PS_HUGETLB | GUP_PS_MOVABLE)) ==
	    GUP_PS_HUGETLB) {
		more = mmap(NULL, 8 * hugetlb_size(), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		ASSERT_NE(MAP_FAILED, more);
		for (p = more; p < more + 8 * hugetlb_size(); p += hugetlb_size()) {
			*p = 1;
			ASSERT_EQ(0, gup_state_addr(self->fd, p, &before, 1));
			if (before.flags & GUP_PS_MOVABLE)
				break;
		}
		iov.iov_base = p < more + 8 * hugetlb_size() ? p : more;
	}
	why = movable_skip(_metadata, &before);
	if (why)
		SKIP(return, "%s", why);
	if (want)
		SKIP(return, "io_uring refuses this buffer (%s): uring_pin checks that",
		     strerror(-want));
	memcpy(content, iov.iov_base, sizeof(content));
	ret = io_uring_queue_init(4, &ring, 0);
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));

	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ret = io_uring_register_buffers(&ring, &iov, 1);
	ASSERT_EQ(0, ret) TH_LOG("io_uring_register_buffers: %s",
				 strerror(-ret));
	ASSERT_EQ(0, gup_state_addr(self->fd, iov.iov_base, &mapped, 1));
	EXPECT_NE(before.pfn, mapped.pfn);
	EXPECT_EQ(0, mapped.flags & GUP_PS_MOVABLE);
	EXPECT_EQ(GUP_PS_MAYBE_DMA_PINNED,
		  mapped.flags & GUP_PS_MAYBE_DMA_PINNED);
	EXPECT_EQ(0, memcmp(content, iov.iov_base, sizeof(content)));
	/* Pins dropped to migrate are counted both ways: one remains. */
	EXPECT_EQ(1, (vmstat("nr_foll_pin_acquired") - acq0) -
		     (vmstat("nr_foll_pin_released") - rel0));
	ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
	io_uring_queue_exit(&ring);
	if (more != MAP_FAILED)
		munmap(more, 8 * hugetlb_size());
	ASSERT_EQ(vmstat("nr_foll_pin_acquired") - acq0,
		  vmstat("nr_foll_pin_released") - rel0);
}

TEST_HARNESS_MAIN
