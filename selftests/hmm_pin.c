// SPDX-License-Identifier: GPL-2.0
/*
 * Pins of anonymous memory that a device has migrated into its own
 * device-private memory (ZONE_DEVICE pages the CPU cannot map): the kernel's
 * test_hmm driver (CONFIG_TEST_HMM) is the device. A pin, like any CPU
 * access, first migrates the pages back to system memory: the pages held
 * are ordinary anonymous pages, not device pages, with the content the
 * device held and the exact counts of any anonymous page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

/* test_hmm's interface (lib/test_hmm_uapi.h), as of 6.12 and 7.3. */
struct hmm_dmirror_cmd {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
	__u64 cpages;
	__u64 faults;
};

#define HMM_DMIRROR_MIGRATE_TO_DEV	_IOWR('H', 0x02, struct hmm_dmirror_cmd)

/* Its first device: device-private memory. */
#define HMM_PRIVATE_DEVICE	"/dev/hmm_dmirror0"

#define NR_PAGES	4

FIXTURE(hmm)
{
	int fd;		/* gup_test */
	int dev;	/* the test_hmm device */
	struct mem mem;
};

FIXTURE_SETUP(hmm)
{
	char why[256];
	int ret;

	self->dev = -1;
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, MEM_ANON, NR_PAGES);
	self->dev = open(HMM_PRIVATE_DEVICE, O_RDWR);
	if (self->dev >= 0)
		return;
	ret = feature_missing("GUP_VM_HMM_MISSING",
			      "no " HMM_PRIVATE_DEVICE ": no test_hmm loaded",
			      why, sizeof(why));
	if (ret == KSFT_SKIP) {
		mem_teardown(&self->mem);
		close(self->fd);
		self->fd = -1;
		SETUP_SKIP(return, "%s", why);
	}
	ASSERT_LE(0, self->dev) TH_LOG("%s: %s", why, strerror(errno));
}

FIXTURE_TEARDOWN(hmm)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
}

/* /proc/self/pagemap's entry for addr, as it is: 0 if it cannot be read. */
static __u64 pagemap_entry(const void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	__u64 e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (uintptr_t)addr / page_size * sizeof(e)) !=
	    sizeof(e))
		e = 0;
	close(fd);
	return e;
}

#define PM_PRESENT	0x8000000000000000ULL	/* bit 63 */
#define PM_SWAP		0x4000000000000000ULL	/* bit 62 */

/*
 * Fills page i with i + 1 and moves every page to the device: none is
 * mapped then, and the device holds each page's bytes.
 */
static void to_device(struct __test_metadata *_metadata, int dev,
		      struct mem *m)
{
	size_t size = NR_PAGES * page_size, i;
	struct hmm_dmirror_cmd cmd = { 0 };
	char *copy = malloc(size);

	ASSERT_NE(NULL, copy);
	for (i = 0; i < NR_PAGES; i++)
		memset(m->addr + i * page_size, (int)(i + 1), page_size);
	cmd.addr = (uintptr_t)m->addr;
	cmd.ptr = (uintptr_t)copy;
	cmd.npages = NR_PAGES;
	ASSERT_EQ(0, ioctl(dev, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd))
		TH_LOG("migrate to the device: %s", strerror(errno));
	ASSERT_EQ(NR_PAGES, cmd.cpages);
	for (i = 0; i < size; i++)
		ASSERT_EQ((char)(i / page_size + 1), copy[i]);
	free(copy);
	for (i = 0; i < NR_PAGES; i++) {
		__u64 e = pagemap_entry(m->addr + i * page_size);

		/* A device-private entry: not present, a swap-type entry. */
		ASSERT_EQ(PM_SWAP, e & (PM_PRESENT | PM_SWAP))
			TH_LOG("page %zu: pagemap %#llx", i,
			       (unsigned long long)e);
	}
}

/*
 * Each API, with and without FOLL_LONGTERM: the pin brings every page back
 * into system memory (mapped again, an anonymous page outside ZONE_DEVICE,
 * the device's bytes in it) and holds exactly what it holds of any
 * anonymous page; the unpin gives it back.
 */
TEST_F(hmm, private_pin_migrates_back)
{
	static const struct { unsigned int api, flags; } ways[] = {
		{ GUP_API_PUP, 0 },
		{ GUP_API_PUP_FAST, 0 },
		{ GUP_API_PUP, GUP_PIN_LONGTERM },
		{ GUP_API_PUP_FAST, GUP_PIN_LONGTERM },
		{ GUP_API_GUP, 0 },
		{ GUP_API_GUP_FAST, 0 },
	};
	struct gup_page_state ps[NR_PAGES], after[NR_PAGES];
	long long acq0, rel0;
	unsigned int w, i;
	__u64 nr;
	__u32 id;

	SETUP_SKIPPED(return);
	for (w = 0; w < ARRAY_SIZE(ways); w++) {
		bool pin = api_pins(ways[w].api);
		unsigned int flags = ways[w].flags | GUP_PIN_WRITE;

		to_device(_metadata, self->dev, &self->mem);
		acq0 = vmstat("nr_foll_pin_acquired");
		rel0 = vmstat("nr_foll_pin_released");
		ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr,
				     NR_PAGES * page_size, ways[w].api, flags,
				     &id, &nr))
			TH_LOG("%s flags %#x", api_name(ways[w].api), flags);
		ASSERT_EQ(NR_PAGES, nr);
		ASSERT_EQ(pin ? NR_PAGES : 0,
			  vmstat("nr_foll_pin_acquired") - acq0);
		ASSERT_EQ(0, gup_state(self->fd, id, 0, ps, NR_PAGES));
		for (i = 0; i < NR_PAGES; i++) {
			char byte;

			ASSERT_EQ(GUP_PS_ANON, ps[i].flags &
				  (GUP_PS_ANON | GUP_PS_ZONE_DEVICE))
				TH_LOG("%s: page %u flags %#x",
				       api_name(ways[w].api), i, ps[i].flags);
			ASSERT_EQ(0, ps[i].order);
			ASSERT_EQ(1, ps[i].mapcount);
			ASSERT_EQ(1 + (pin ? GUP_BIAS : 1), ps[i].refcount)
				TH_LOG("%s: page %u", api_name(ways[w].api),
				       i);
			ASSERT_EQ(pin ? GUP_PS_MAYBE_DMA_PINNED : 0,
				  ps[i].flags & GUP_PS_MAYBE_DMA_PINNED);
			ASSERT_EQ(ps[i].pfn,
				  pagemap_pfn(self->mem.addr + i * page_size));
			ASSERT_EQ(0, gup_dma(self->fd, id, GUP_DMA_FROM_PAGES,
					     i * page_size + page_size - 1,
					     &byte, 1));
			ASSERT_EQ((char)(i + 1), byte);
		}
		ASSERT_EQ(0, gup_unpin(self->fd, id, plain_unpin(ways[w].api)));
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, after,
					    NR_PAGES));
		for (i = 0; i < NR_PAGES; i++) {
			ASSERT_EQ(ps[i].pfn, after[i].pfn);
			ASSERT_EQ(1, after[i].refcount);
		}
		ASSERT_EQ(vmstat("nr_foll_pin_acquired") - acq0,
			  vmstat("nr_foll_pin_released") - rel0);
	}
}

TEST_HARNESS_MAIN
