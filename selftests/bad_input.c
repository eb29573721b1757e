// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the gup_test device: one table row per case, each asserting
 * its errno and that no page is left pinned or referenced behind it. The
 * kernel log scan of the runner asserts that none of it WARNed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	4

/* A mapping type of its own, since v6.11: older libc headers lack it. */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE	0x08
#endif

/*
 * Memory of a kind that gup refuses, for the rows about it. The query
 * cannot read its pages either (it looks them up with gup), so their state
 * is compared only where access can be given back after the call.
 */
struct refused_mem {
	char *addr;
	size_t size;
	int fd;
	/* PROT_NONE over faulted-in pages, whose state before[] holds. */
	bool unprotect;
	struct gup_page_state before[NR_PAGES];
	/* Never faulted in: no page may be there after the call. */
	bool never_faulted;
};

/*
 * NR_PAGES mapped pages followed by an unmapped page; and the memory that
 * a row's call is about, where it is not these.
 */
struct ctx {
	int fd;
	char *addr;
	char *hole;
	struct refused_mem mem;
};

FIXTURE(bad)
{
	struct ctx ctx;
};

/* Returns 0 or -errno of the call under test. */
typedef int (*bad_call_fn)(struct ctx *c);
/* Maps c->mem: 0, or KSFT_SKIP or -1 with why. */
typedef int (*refused_mem_fn)(struct ctx *c, char *why, size_t len);

FIXTURE_VARIANT(bad)
{
	refused_mem_fn mem;
	bad_call_fn call;
	int err;
};

static int pin(struct ctx *c, __u64 addr, __u64 size, __u32 api,
	       __u32 flags, __u32 reserved)
{
	struct gup_pin_session s = {
		.addr = addr,
		.size = size,
		.api = api,
		.flags = flags,
		.reserved = reserved,
	};

	return ioctl(c->fd, GUP_PIN_START, &s) ? -errno : 0;
}

static __u64 base(struct ctx *c)
{
	return (uintptr_t)c->addr;
}

static int pin_size_zero(struct ctx *c)
{
	return pin(c, base(c), 0, GUP_API_PUP, 0, 0);
}

static int pin_addr_unaligned(struct ctx *c)
{
	return pin(c, base(c) + 1, page_size, GUP_API_PUP, 0, 0);
}

static int pin_size_unaligned(struct ctx *c)
{
	return pin(c, base(c), page_size + 1, GUP_API_PUP, 0, 0);
}

static int pin_size_negative(struct ctx *c)
{
	return pin(c, base(c), -(__u64)page_size, GUP_API_PUP_FAST, 0, 0);
}

static int pin_kernel_address(struct ctx *c)
{
	return pin(c, 0xffff888000000000ULL, page_size, GUP_API_PUP_FAST,
		   0, 0);
}

static int pin_unmapped(struct ctx *c)
{
	return pin(c, (uintptr_t)c->hole, page_size, GUP_API_PUP, 0, 0);
}

static int pin_unmapped_fast(struct ctx *c)
{
	return pin(c, (uintptr_t)c->hole, page_size, GUP_API_PUP_FAST, 0, 0);
}

static int pin_bad_api(struct ctx *c)
{
	return pin(c, base(c), page_size, GUP_API_NR, 0, 0);
}

static int pin_bad_flags(struct ctx *c)
{
	return pin(c, base(c), page_size, GUP_API_PUP, 0x80, 0);
}

static int pin_longterm_get(struct ctx *c)
{
	return pin(c, base(c), page_size, GUP_API_GUP_FAST, GUP_PIN_LONGTERM,
		   0);
}

static int pin_reserved(struct ctx *c)
{
	return pin(c, base(c), page_size, GUP_API_PUP, 0, 1);
}

static int pin_over_limit(struct ctx *c)
{
	long long max = gup_param("max_pages_per_file");

	if (max < 0)
		return -ENOENT;
	/* Checked before any page is touched: the range need not exist. */
	return pin(c, base(c), (max + 1) * page_size, GUP_API_PUP_FAST, 0, 0);
}

static int stop_unknown(struct ctx *c)
{
	return gup_unpin(c->fd, 12345, GUP_UNPIN_PLAIN);
}

/* A rejected stop leaves the session held: a second, right one works. */
static int stop_wrong_way(struct ctx *c, __u32 api, __u32 flags, __u32 how)
{
	__u32 id;
	int ret;

	ret = gup_pin(c->fd, c->addr, page_size, api, flags, &id, NULL);
	if (ret)
		return ret == -EINVAL ? -EIO : ret;
	ret = gup_unpin(c->fd, id, how);
	if (gup_unpin(c->fd, id, plain_unpin(api)))
		return -EIO;
	return ret;
}

static int stop_put_on_pin(struct ctx *c)
{
	return stop_wrong_way(c, GUP_API_PUP, 0, GUP_UNPIN_PUT);
}

static int stop_unpin_on_get(struct ctx *c)
{
	return stop_wrong_way(c, GUP_API_GUP, 0, GUP_UNPIN_PLAIN);
}

static int stop_dirty_read_only(struct ctx *c)
{
	return stop_wrong_way(c, GUP_API_PUP_FAST, 0, GUP_UNPIN_DIRTY_LOCK);
}

static int stop_put_dirty_on_pin(struct ctx *c)
{
	return stop_wrong_way(c, GUP_API_PUP, GUP_PIN_WRITE,
			      GUP_UNPIN_PUT_DEVICE_DIRTY);
}

static int stop_put_dirty_ro(struct ctx *c)
{
	return stop_wrong_way(c, GUP_API_GUP, 0, GUP_UNPIN_PUT_DEVICE_DIRTY);
}

static int stop_bad_how(struct ctx *c)
{
	return stop_wrong_way(c, GUP_API_PUP_FAST, 0, GUP_UNPIN_NR);
}

static int query(struct ctx *c, __u32 id, __u64 start, __u64 count,
		 void *states)
{
	struct gup_page_query q = {
		.id = id,
		.start = start,
		.count = count,
		.states = (uintptr_t)states,
	};

	return ioctl(c->fd, GUP_PIN_QUERY, &q) ? -errno : 0;
}

static int query_zero_count(struct ctx *c)
{
	struct gup_page_state ps;

	return query(c, 0, base(c), 0, &ps);
}

static int query_too_many(struct ctx *c)
{
	struct gup_page_state ps;

	return query(c, 0, base(c), GUP_QUERY_MAX + 1, &ps);
}

static int query_bad_pointer(struct ctx *c)
{
	return query(c, 0, base(c), 1, (void *)8);
}

static int query_unknown_session(struct ctx *c)
{
	struct gup_page_state ps;

	return query(c, 7, 0, 1, &ps);
}

static int query_unmapped(struct ctx *c)
{
	struct gup_page_state ps;

	return query(c, 0, (uintptr_t)c->hole, 1, &ps);
}

static int with_session(struct ctx *c, __u32 flags,
			int (*fn)(struct ctx *c, __u32 id))
{
	__u32 id;
	int ret;

	ret = gup_pin(c->fd, c->addr, page_size, GUP_API_PUP_FAST, flags,
		      &id, NULL);
	if (ret)
		return ret == -EINVAL ? -EIO : ret;
	ret = fn(c, id);
	if (gup_unpin(c->fd, id, GUP_UNPIN_PLAIN))
		return -EIO;
	return ret;
}

static int dma_write_read_only_fn(struct ctx *c, __u32 id)
{
	char buf[8] = "device";

	return gup_dma(c->fd, id, GUP_DMA_TO_PAGES, 0, buf, sizeof(buf));
}

static int dma_write_read_only(struct ctx *c)
{
	return with_session(c, 0, dma_write_read_only_fn);
}

static int dma_past_end_fn(struct ctx *c, __u32 id)
{
	char buf[8];

	return gup_dma(c->fd, id, GUP_DMA_FROM_PAGES, page_size - 4, buf,
		       sizeof(buf));
}

static int dma_past_end(struct ctx *c)
{
	return with_session(c, GUP_PIN_WRITE, dma_past_end_fn);
}

static int dma_bad_buffer_fn(struct ctx *c, __u32 id)
{
	return gup_dma(c->fd, id, GUP_DMA_TO_PAGES, 0, (void *)8, 8);
}

static int dma_bad_buffer(struct ctx *c)
{
	return with_session(c, GUP_PIN_WRITE, dma_bad_buffer_fn);
}

static int dma_bad_dir_fn(struct ctx *c, __u32 id)
{
	char buf[8];

	return gup_dma(c->fd, id, 2, 0, buf, sizeof(buf));
}

static int dma_bad_dir(struct ctx *c)
{
	return with_session(c, GUP_PIN_WRITE, dma_bad_dir_fn);
}

static int bench(struct ctx *c, __u32 npc, __u64 size)
{
	struct gup_bench b = {
		.addr = base(c),
		.size = size,
		.api = GUP_API_PUP_FAST,
		.nr_pages_per_call = npc,
	};

	return ioctl(c->fd, GUP_BENCH, &b) ? -errno : 0;
}

static int bench_zero_per_call(struct ctx *c)
{
	return bench(c, 0, page_size);
}

static int bench_too_many_per_call(struct ctx *c)
{
	return bench(c, GUP_BENCH_BATCH + 1, page_size);
}

static int bench_unaligned(struct ctx *c)
{
	return bench(c, 1, page_size - 1);
}

/* More than the module ever holds: refused before anything is pinned. */
static int bench_too_long(struct ctx *c)
{
	return bench(c, 1, ((1ULL << 20) + 1) * page_size);
}

static int upstream(struct ctx *c, unsigned long cmd, __u32 gup_flags,
		    __u64 size)
{
	struct gup_test g = {
		.addr = base(c),
		.size = size,
		.nr_pages_per_call = 1,
		.gup_flags = gup_flags,
	};

	return ioctl(c->fd, cmd, &g) ? -errno : 0;
}

static int upstream_bad_gup_flags(struct ctx *c)
{
	/* 0x4 is FOLL_GET on 6.1: pin_user_pages() would WARN on it. */
	return upstream(c, PIN_FAST_BENCHMARK, 0x4, page_size);
}

static int upstream_zero_per_call(struct ctx *c)
{
	struct gup_test g = {
		.addr = base(c),
		.size = page_size,
	};

	return ioctl(c->fd, GUP_FAST_BENCHMARK, &g) ? -errno : 0;
}

static int upstream_over_limit(struct ctx *c)
{
	long long max = gup_param("max_pages_per_file");

	if (max < 0)
		return -ENOENT;
	return upstream(c, GUP_FAST_BENCHMARK, 0, (max + 1) * page_size);
}

static int upstream_overflow(struct ctx *c)
{
	return upstream(c, GUP_BASIC_TEST, 0, -(__u64)page_size);
}

static int longterm_read_unstarted(struct ctx *c)
{
	__u64 to = base(c);

	return ioctl(c->fd, PIN_LONGTERM_TEST_READ, &to) ? -errno : 0;
}

static int longterm_bad_flags(struct ctx *c)
{
	struct pin_longterm_test lt = {
		.addr = base(c),
		.size = page_size,
		.flags = 4,
	};

	return ioctl(c->fd, PIN_LONGTERM_TEST_START, &lt) ? -errno : 0;
}

static int longterm_unmapped(struct ctx *c)
{
	/* Upstream pins all or nothing: the mapped prefix is let go. */
	struct pin_longterm_test lt = {
		.addr = base(c),
		.size = (NR_PAGES + 1) * page_size,
	};

	return ioctl(c->fd, PIN_LONGTERM_TEST_START, &lt) ? -errno : 0;
}

static int unknown_ioctl(struct ctx *c)
{
	char arg[64] = "";

	return ioctl(c->fd, _IOWR('g', 99, char[64]), arg) ? -errno : 0;
}

static int mmap_file(struct ctx *c, size_t size, int flags, off_t offset)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, c->fd,
		       offset);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, size);
	return 0;
}

static int mmap_two_pages(struct ctx *c)
{
	return mmap_file(c, 2 * page_size, MAP_SHARED, 0);
}

static int mmap_offset(struct ctx *c)
{
	return mmap_file(c, page_size, MAP_SHARED, page_size);
}

static int mmap_private(struct ctx *c)
{
	return mmap_file(c, page_size, MAP_PRIVATE, 0);
}

/* checkpatch keeps the constant for code that returns it: the name. */
static bool is_enosys(int err)
{
	const char *name = strerrorname_np(err);

	return name && !strcmp(name, "ENOSYS");
}

/*
 * Why memfd_secret() is ENOSYS: the kernel lacks secretmem, has it off
 * (off by default before v6.5, as in 6.1: secretmem.enable=1 turns it on),
 * or cannot take pages out of its direct map.
 */
static const char *secretmem_off_why(void)
{
	FILE *f = fopen("/sys/module/secretmem/parameters/enable", "r");
	int on;

	if (!f)
		return "no secretmem in this kernel (CONFIG_SECRETMEM)";
	on = fgetc(f);
	fclose(f);
	if (on == 'N')
		return "secretmem is off: boot with secretmem.enable=1";
	return "secretmem is on, but the kernel cannot change its direct map";
}

/* memfd_secret() pages, each faulted in: there is a page to take. */
static int map_secretmem(struct ctx *c, char *why, size_t len)
{
	struct refused_mem *m = &c->mem;
	size_t i;

	m->size = NR_PAGES * page_size;
	m->fd = syscall(__NR_memfd_secret, 0);
	if (m->fd < 0 && is_enosys(errno)) {
		snprintf(why, len, "memfd_secret: ENOSYS: %s",
			 secretmem_off_why());
		return in_suite_guest() ? -1 : KSFT_SKIP;
	}
	if (m->fd < 0 || ftruncate(m->fd, m->size)) {
		snprintf(why, len, "memfd_secret: %s", strerror(errno));
		return -1;
	}
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       m->fd, 0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		snprintf(why, len, "mmap of memfd_secret: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < NR_PAGES; i++)
		m->addr[i * page_size] = 1;
	return 0;
}

/* The module's page, mapped VM_IO | VM_PFNMAP as a driver maps MMIO. */
static int map_pfnmap(struct ctx *c, char *why, size_t len)
{
	struct refused_mem *m = &c->mem;

	m->size = page_size;
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       c->fd, 0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		snprintf(why, len, "mmap of gup_test: %s", strerror(errno));
		return -1;
	}
	/* Mapped at mmap() time: user space reaches it with no fault. */
	m->addr[0] = 1;
	return 0;
}

static int map_anon(struct refused_mem *m, int prot, char *why, size_t len)
{
	m->size = NR_PAGES * page_size;
	m->addr = mmap(NULL, m->size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		snprintf(why, len, "mmap: %s", strerror(errno));
		return -1;
	}
	madvise(m->addr, m->size, MADV_NOHUGEPAGE);
	return 0;
}

/* Anonymous pages written, then made PROT_NONE: present, not accessible. */
static int map_prot_none_faulted(struct ctx *c, char *why, size_t len)
{
	struct refused_mem *m = &c->mem;
	size_t i;

	if (map_anon(m, PROT_READ | PROT_WRITE, why, len))
		return -1;
	for (i = 0; i < NR_PAGES; i++)
		m->addr[i * page_size] = 1;
	if (gup_state_addr(c->fd, m->addr, m->before, NR_PAGES) ||
	    mprotect(m->addr, m->size, PROT_NONE)) {
		snprintf(why, len, "state or mprotect: %s", strerror(errno));
		return -1;
	}
	m->unprotect = true;
	return 0;
}

static int map_prot_none_unfaulted(struct ctx *c, char *why, size_t len)
{
	if (map_anon(&c->mem, PROT_NONE, why, len))
		return -1;
	c->mem.never_faulted = true;
	return 0;
}

static int mem_pin(struct ctx *c, __u32 api, __u32 flags)
{
	return pin(c, (uintptr_t)c->mem.addr, c->mem.size, api, flags, 0);
}

static int mem_gup(struct ctx *c)
{
	return mem_pin(c, GUP_API_GUP, 0);
}

static int mem_gup_fast(struct ctx *c)
{
	return mem_pin(c, GUP_API_GUP_FAST, 0);
}

static int mem_pup(struct ctx *c)
{
	return mem_pin(c, GUP_API_PUP, 0);
}

static int mem_pup_fast(struct ctx *c)
{
	return mem_pin(c, GUP_API_PUP_FAST, 0);
}

static int mem_pup_fast_longterm_write(struct ctx *c)
{
	return mem_pin(c, GUP_API_PUP_FAST, GUP_PIN_LONGTERM | GUP_PIN_WRITE);
}

FIXTURE_VARIANT_ADD(bad, pin_size_zero) { .call = pin_size_zero, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_addr_unaligned) { .call = pin_addr_unaligned, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_size_unaligned) { .call = pin_size_unaligned, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_size_negative) { .call = pin_size_negative, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_kernel_address) { .call = pin_kernel_address, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, pin_unmapped) { .call = pin_unmapped, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, pin_unmapped_fast) { .call = pin_unmapped_fast, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, pin_bad_api) { .call = pin_bad_api, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_bad_flags) { .call = pin_bad_flags, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_longterm_get) { .call = pin_longterm_get, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_reserved) { .call = pin_reserved, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, pin_over_limit) { .call = pin_over_limit, .err = E2BIG };
FIXTURE_VARIANT_ADD(bad, stop_unknown) { .call = stop_unknown, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, stop_put_on_pin) { .call = stop_put_on_pin, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, stop_unpin_on_get) { .call = stop_unpin_on_get, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, stop_dirty_read_only) { .call = stop_dirty_read_only, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, stop_put_dirty_on_pin) { .call = stop_put_dirty_on_pin, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, stop_put_dirty_ro) { .call = stop_put_dirty_ro, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, stop_bad_how) { .call = stop_bad_how, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, query_zero_count) { .call = query_zero_count, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, query_too_many) { .call = query_too_many, .err = E2BIG };
FIXTURE_VARIANT_ADD(bad, query_bad_pointer) { .call = query_bad_pointer, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, query_unknown_session) { .call = query_unknown_session, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, query_unmapped) { .call = query_unmapped, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, dma_write_read_only) { .call = dma_write_read_only, .err = EPERM };
FIXTURE_VARIANT_ADD(bad, dma_past_end) { .call = dma_past_end, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, dma_bad_buffer) { .call = dma_bad_buffer, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, dma_bad_dir) { .call = dma_bad_dir, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, bench_zero_per_call) { .call = bench_zero_per_call, .err = EINVAL };

FIXTURE_VARIANT_ADD(bad, bench_too_many_per_call)
{
	.call = bench_too_many_per_call,
	.err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad, bench_unaligned) { .call = bench_unaligned, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, bench_too_long) { .call = bench_too_long, .err = E2BIG };
FIXTURE_VARIANT_ADD(bad, upstream_bad_gup_flags) { .call = upstream_bad_gup_flags, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, upstream_zero_per_call) { .call = upstream_zero_per_call, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, upstream_over_limit) { .call = upstream_over_limit, .err = E2BIG };
FIXTURE_VARIANT_ADD(bad, upstream_overflow) { .call = upstream_overflow, .err = EINVAL };

FIXTURE_VARIANT_ADD(bad, longterm_read_unstarted)
{
	.call = longterm_read_unstarted,
	.err = EINVAL,
};

FIXTURE_VARIANT_ADD(bad, longterm_bad_flags) { .call = longterm_bad_flags, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, longterm_unmapped) { .call = longterm_unmapped, .err = EFAULT };
FIXTURE_VARIANT_ADD(bad, unknown_ioctl) { .call = unknown_ioctl, .err = ENOTTY };
FIXTURE_VARIANT_ADD(bad, mmap_two_pages) { .call = mmap_two_pages, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, mmap_offset) { .call = mmap_offset, .err = EINVAL };
FIXTURE_VARIANT_ADD(bad, mmap_private) { .call = mmap_private, .err = EINVAL };

/*
 * Memory gup refuses, by every API: -EFAULT on 6.1, 6.12 and 7.3 alike.
 * check_vma_flags() refuses VM_IO | VM_PFNMAP, secretmem, and a mapping
 * without VM_READ (or VM_WRITE, for a write) before it faults in or takes
 * anything; the fast walk leaves a special pte, a secretmem folio, a
 * PROT_NONE or absent pte to the slow path, which ends there.
 */
FIXTURE_VARIANT_ADD(bad, secretmem_gup)
{
	.mem = map_secretmem,
	.call = mem_gup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, secretmem_gup_fast)
{
	.mem = map_secretmem,
	.call = mem_gup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, secretmem_pup)
{
	.mem = map_secretmem,
	.call = mem_pup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, secretmem_pup_fast)
{
	.mem = map_secretmem,
	.call = mem_pup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, secretmem_pup_fast_longterm_write)
{
	.mem = map_secretmem,
	.call = mem_pup_fast_longterm_write,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, pfnmap_gup)
{
	.mem = map_pfnmap,
	.call = mem_gup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, pfnmap_gup_fast)
{
	.mem = map_pfnmap,
	.call = mem_gup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, pfnmap_pup)
{
	.mem = map_pfnmap,
	.call = mem_pup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, pfnmap_pup_fast)
{
	.mem = map_pfnmap,
	.call = mem_pup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, pfnmap_pup_fast_longterm_write)
{
	.mem = map_pfnmap,
	.call = mem_pup_fast_longterm_write,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_gup)
{
	.mem = map_prot_none_faulted,
	.call = mem_gup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_gup_fast)
{
	.mem = map_prot_none_faulted,
	.call = mem_gup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_pup)
{
	.mem = map_prot_none_faulted,
	.call = mem_pup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_pup_fast)
{
	.mem = map_prot_none_faulted,
	.call = mem_pup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_pup_fast_longterm_write)
{
	.mem = map_prot_none_faulted,
	.call = mem_pup_fast_longterm_write,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_unfaulted_gup)
{
	.mem = map_prot_none_unfaulted,
	.call = mem_gup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_unfaulted_gup_fast)
{
	.mem = map_prot_none_unfaulted,
	.call = mem_gup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_unfaulted_pup)
{
	.mem = map_prot_none_unfaulted,
	.call = mem_pup,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_unfaulted_pup_fast)
{
	.mem = map_prot_none_unfaulted,
	.call = mem_pup_fast,
	.err = EFAULT,
};

FIXTURE_VARIANT_ADD(bad, prot_none_unfaulted_pup_fast_longterm_write)
{
	.mem = map_prot_none_unfaulted,
	.call = mem_pup_fast_longterm_write,
	.err = EFAULT,
};

/* Returns 0, KSFT_SKIP with why, or -1 with why. */
static int ctx_init(struct ctx *c, const char **why)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->mem.fd = -1;
	c->fd = gup_open();
	*why = gup_open_skip(c->fd);
	if (*why)
		return KSFT_SKIP;
	*why = "open or mmap failed";
	if (c->fd < 0)
		return -1;
	c->addr = mmap(NULL, (NR_PAGES + 1) * page_size,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (c->addr == MAP_FAILED) {
		c->addr = NULL;
		return -1;
	}
	madvise(c->addr, NR_PAGES * page_size, MADV_NOHUGEPAGE);
	c->hole = c->addr + NR_PAGES * page_size;
	if (munmap(c->hole, page_size))
		return -1;
	for (i = 0; i < NR_PAGES; i++)
		c->addr[i * page_size] = 1;
	return 0;
}

/* Runs once or twice: a setup that skips calls it before the teardown. */
static void ctx_fini(struct ctx *c)
{
	if (c->mem.addr)
		munmap(c->mem.addr, c->mem.size);
	if (c->mem.fd >= 0)
		close(c->mem.fd);
	if (c->addr)
		munmap(c->addr, NR_PAGES * page_size);
	if (c->fd >= 0)
		close(c->fd);
	c->mem.addr = NULL;
	c->mem.fd = -1;
	c->addr = NULL;
	c->fd = -1;
}

FIXTURE_SETUP(bad)
{
	char why[256] = "";
	const char *init_why;
	int ret = ctx_init(&self->ctx, &init_why);

	if (ret == KSFT_SKIP)
		SETUP_SKIP(return, "%s", init_why);
	ASSERT_EQ(0, ret) TH_LOG("%s", init_why);
	if (!variant->mem)
		return;
	ret = variant->mem(&self->ctx, why, sizeof(why));
	if (ret == KSFT_SKIP) {
		ctx_fini(&self->ctx);
		SETUP_SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(bad)
{
	ctx_fini(&self->ctx);
}

TEST_F(bad, rejected)
{
	struct gup_page_state before[NR_PAGES], after[NR_PAGES];
	struct ctx *c = &self->ctx;
	long long acq0, rel0;
	int i;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(c->fd, c->addr, before, NR_PAGES));
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");

	ASSERT_EQ(-variant->err, variant->call(c))
		TH_LOG("expected %s", strerror(variant->err));

	ASSERT_EQ(vmstat("nr_foll_pin_acquired") - acq0,
		  vmstat("nr_foll_pin_released") - rel0);
	ASSERT_EQ(0, gup_state_addr(c->fd, c->addr, after, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(before[i].pfn, after[i].pfn);
		ASSERT_EQ(before[i].refcount, after[i].refcount)
			TH_LOG("page %d: flags %#x then %#x", i,
			       before[i].flags, after[i].flags);
	}
	/* Nothing was left held: the first session id is still unused. */
	ASSERT_EQ(-EINVAL, gup_unpin(c->fd, 1, GUP_UNPIN_PLAIN));

	if (c->mem.unprotect) {
		struct refused_mem *m = &c->mem;

		ASSERT_EQ(0, mprotect(m->addr, m->size,
				      PROT_READ | PROT_WRITE));
		ASSERT_EQ(0, gup_state_addr(c->fd, m->addr, after, NR_PAGES));
		for (i = 0; i < NR_PAGES; i++) {
			ASSERT_EQ(m->before[i].pfn, after[i].pfn);
			ASSERT_EQ(m->before[i].refcount, after[i].refcount)
				TH_LOG("PROT_NONE page %d: flags %#x then %#x",
				       i, m->before[i].flags, after[i].flags);
		}
	}
	if (c->mem.never_faulted) {
		unsigned int present = 0;
		__u64 pfn[NR_PAGES];

		/* A refusal faults nothing in (pfns need root: we are). */
		ASSERT_EQ(0, pagemap_pfns(c->mem.addr, NR_PAGES, pfn));
		for (i = 0; i < NR_PAGES; i++)
			present |= !!pfn[i] << i;
		ASSERT_EQ(0, present) TH_LOG("pages faulted in: %#x", present);
	}
}

FIXTURE(hole)
{
	struct ctx ctx;
};

FIXTURE_SETUP(hole)
{
	const char *why;
	int ret = ctx_init(&self->ctx, &why);

	if (ret == KSFT_SKIP)
		SETUP_SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(hole)
{
	ctx_fini(&self->ctx);
}

/* A range that runs into a hole pins the mapped prefix and says so. */
TEST_F(hole, partial_pin_reports_prefix)
{
	struct gup_page_state before, ps;
	struct ctx *c = &self->ctx;
	long long acq0;
	__u64 nr;
	__u32 id;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(c->fd, c->addr, &before, 1));
	acq0 = vmstat("nr_foll_pin_acquired");
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, (NR_PAGES + 1) * page_size,
			     GUP_API_PUP, GUP_PIN_WRITE, &id, &nr));
	ASSERT_EQ(NR_PAGES, nr);
	ASSERT_EQ(NR_PAGES, vmstat("nr_foll_pin_acquired") - acq0);
	ASSERT_EQ(0, gup_unpin(c->fd, id, GUP_UNPIN_PLAIN));
	ASSERT_EQ(0, gup_state_addr(c->fd, c->addr, &ps, 1));
	ASSERT_EQ(before.refcount, ps.refcount);
}

/*
 * MAP_DROPPABLE memory (v6.11): anonymous pages that reclaim may drop, not
 * swap out. gup takes them as any anonymous page, by every API and
 * long-term too: neither mm/gup.c nor folio_is_longterm_pinnable() looks
 * at VM_DROPPABLE in 6.12 or 7.3, and the fast path lets anonymous folios
 * through. Not a refusal, then: exact counts, held and given back.
 */
FIXTURE(droppable)
{
	int fd;
	char *addr;
};

FIXTURE_VARIANT(droppable)
{
	unsigned int api;
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(droppable, gup) { .api = GUP_API_GUP };
FIXTURE_VARIANT_ADD(droppable, gup_fast) { .api = GUP_API_GUP_FAST };
FIXTURE_VARIANT_ADD(droppable, pup) { .api = GUP_API_PUP };
FIXTURE_VARIANT_ADD(droppable, pup_fast) { .api = GUP_API_PUP_FAST };

FIXTURE_VARIANT_ADD(droppable, pup_longterm_write)
{
	.api = GUP_API_PUP,
	.flags = GUP_PIN_LONGTERM | GUP_PIN_WRITE,
};

FIXTURE_VARIANT_ADD(droppable, pup_fast_longterm_write)
{
	.api = GUP_API_PUP_FAST,
	.flags = GUP_PIN_LONGTERM | GUP_PIN_WRITE,
};

FIXTURE_SETUP(droppable)
{
	size_t i;
	int err;

	self->addr = NULL;
	self->fd = gup_open();
	if (gup_open_skip(self->fd))
		SETUP_SKIP(return, "%s", gup_open_skip(self->fd));
	ASSERT_LE(0, self->fd) TH_LOG("open gup_test: %s", strerror(-self->fd));
	self->addr = mmap(NULL, NR_PAGES * page_size, PROT_READ | PROT_WRITE,
			  MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	err = self->addr == MAP_FAILED ? errno : 0;
	if (err)
		self->addr = NULL;
	/*
	 * Older kernels know no mapping type 0x08. Only the version tells
	 * that this is why: to the kernels that know it, EINVAL is a bad
	 * combination of flags, which this one is not.
	 */
	if (err == EINVAL && !(in_suite_guest() && kernel_at_least(6, 11))) {
		close(self->fd);
		self->fd = -1;
		SETUP_SKIP(return, "mmap(MAP_DROPPABLE): EINVAL: before v6.11");
	}
	ASSERT_EQ(0, err) TH_LOG("mmap(MAP_DROPPABLE): %s", strerror(err));
	madvise(self->addr, NR_PAGES * page_size, MADV_NOHUGEPAGE);
	for (i = 0; i < NR_PAGES; i++)
		self->addr[i * page_size] = 1;
}

FIXTURE_TEARDOWN(droppable)
{
	if (self->addr)
		munmap(self->addr, NR_PAGES * page_size);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(droppable, held_and_released)
{
	struct gup_page_state before[NR_PAGES], held[NR_PAGES], after[NR_PAGES];
	bool pins = api_pins(variant->api);
	long long acq0, rel0;
	__u64 nr;
	__u32 id;
	int i;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->addr, before, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		/* What sets it apart: anonymous, yet not swap-backed. */
		ASSERT_EQ(GUP_PS_ANON,
			  before[i].flags & (GUP_PS_ANON | GUP_PS_SWAPBACKED))
			TH_LOG("page %d: flags %#x", i, before[i].flags);
		if ((variant->flags & GUP_PIN_LONGTERM) &&
		    !(before[i].flags & GUP_PS_LONGTERM_OK)) {
			/*
			 * A long-term pin would migrate it first; our guest
			 * has neither ZONE_MOVABLE nor CMA.
			 */
			ASSERT_FALSE(in_suite_guest());
			SKIP(return, "page %d: ZONE_MOVABLE or CMA", i);
		}
	}
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");

	ASSERT_EQ(0, gup_pin(self->fd, self->addr, NR_PAGES * page_size,
			     variant->api, variant->flags, &id, &nr));
	ASSERT_EQ(NR_PAGES, nr);
	ASSERT_EQ(pins ? NR_PAGES : 0, vmstat("nr_foll_pin_acquired") - acq0);
	ASSERT_EQ(0, gup_state(self->fd, id, 0, held, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(before[i].pfn, held[i].pfn);
		ASSERT_EQ(before[i].refcount + (pins ? GUP_BIAS : 1),
			  held[i].refcount);
		ASSERT_EQ(pins, !!(held[i].flags & GUP_PS_MAYBE_DMA_PINNED));
	}

	ASSERT_EQ(0, gup_unpin(self->fd, id, plain_unpin(variant->api)));
	ASSERT_EQ(vmstat("nr_foll_pin_acquired") - acq0,
		  vmstat("nr_foll_pin_released") - rel0);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->addr, after, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(before[i].pfn, after[i].pfn);
		ASSERT_EQ(before[i].refcount, after[i].refcount);
	}
}

/* max_pages_per_file counts what all of a file's sessions hold. */
FIXTURE(limit)
{
	struct ctx ctx;
	long long saved_file, saved_total;
};

static int set_param(const char *param, long long val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/gup_test/parameters/%s",
		 param);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%lld\n", val) < 0;
	/* The write reaches the module at fclose(): its error is there. */
	if (fclose(f))
		return -errno;
	return ret ? -EIO : 0;
}

FIXTURE_SETUP(limit)
{
	const char *why;
	int ret = ctx_init(&self->ctx, &why);

	self->saved_file = -1;
	self->saved_total = -1;
	if (ret == KSFT_SKIP)
		SETUP_SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	self->saved_file = gup_param("max_pages_per_file");
	self->saved_total = gup_param("max_pages_total");
	ASSERT_LE(0, self->saved_file);
	ASSERT_LE(0, self->saved_total);
	ASSERT_EQ(0, set_param("max_pages_per_file", NR_PAGES));
}

FIXTURE_TEARDOWN(limit)
{
	if (self->saved_file >= 0)
		set_param("max_pages_per_file", self->saved_file);
	if (self->saved_total >= 0)
		set_param("max_pages_total", self->saved_total);
	ctx_fini(&self->ctx);
}

TEST_F(limit, counts_all_sessions)
{
	struct ctx *c = &self->ctx;
	__u32 a, b, d;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, 3 * page_size, GUP_API_PUP_FAST,
			     0, &a, NULL));
	ASSERT_EQ(-E2BIG, gup_pin(c->fd, c->addr, 2 * page_size,
				  GUP_API_GUP_FAST, 0, &b, NULL));
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, page_size, GUP_API_GUP_FAST, 0,
			     &b, NULL));
	ASSERT_EQ(-E2BIG, gup_pin(c->fd, c->addr, page_size, GUP_API_PUP, 0,
				  &d, NULL));
	/* What a stop releases can be pinned again. */
	ASSERT_EQ(0, gup_unpin(c->fd, a, GUP_UNPIN_PLAIN));
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, 3 * page_size, GUP_API_PUP, 0,
			     &a, NULL));
	/* Another file has a limit of its own. */
	{
		int fd = gup_open();

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, gup_pin(fd, c->addr, NR_PAGES * page_size,
				     GUP_API_PUP_FAST, 0, &d, NULL));
		close(fd);
	}
}

/*
 * Upstream's calls, the long-term test and GUP_BENCH count against the
 * same limit as sessions: a file holding 3 of 4 pages gets no more.
 */
TEST_F(limit, counts_every_path)
{
	struct pin_longterm_test lt = {
		.addr = base(&self->ctx),
		.size = 2 * page_size,
	};
	struct ctx *c = &self->ctx;
	__u32 id;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, 3 * page_size, GUP_API_PUP_FAST,
			     0, &id, NULL));
	ASSERT_EQ(-E2BIG, upstream(c, PIN_BASIC_TEST, 0, 2 * page_size));
	ASSERT_EQ(-E2BIG, upstream(c, GUP_FAST_BENCHMARK, 0, 2 * page_size));
	ASSERT_EQ(-1, ioctl(c->fd, PIN_LONGTERM_TEST_START, &lt));
	ASSERT_EQ(E2BIG, errno);
	ASSERT_EQ(-E2BIG, bench(c, 1, 2 * page_size));
	/* One page is left, and each path may take it. */
	ASSERT_EQ(0, upstream(c, PIN_BASIC_TEST, 0, page_size));
	ASSERT_EQ(0, bench(c, 1, page_size));
	lt.size = page_size;
	ASSERT_EQ(0, ioctl(c->fd, PIN_LONGTERM_TEST_START, &lt));
	ASSERT_EQ(-E2BIG, gup_pin(c->fd, c->addr, page_size, GUP_API_PUP, 0,
				  &id, NULL));
	ASSERT_EQ(0, ioctl(c->fd, PIN_LONGTERM_TEST_STOP));
}

/* max_pages_total bounds what all files hold together. */
TEST_F(limit, module_wide)
{
	struct ctx *c = &self->ctx;
	__u32 a, b;
	int fd;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, set_param("max_pages_total", NR_PAGES));
	fd = gup_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, 3 * page_size, GUP_API_PUP_FAST,
			     0, &a, NULL));
	ASSERT_EQ(-E2BIG, gup_pin(fd, c->addr, 2 * page_size,
				  GUP_API_PUP_FAST, 0, &b, NULL));
	ASSERT_EQ(-E2BIG, upstream(c, GUP_FAST_BENCHMARK, 0, 2 * page_size));
	ASSERT_EQ(0, gup_pin(fd, c->addr, page_size, GUP_API_PUP_FAST, 0, &b,
			     NULL));
	/* Closing a file gives its pages back to the others. */
	close(fd);
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, page_size, GUP_API_PUP, 0, &b,
			     NULL));
}

/* The limits take 1..2^20: the arrays they size stay far below INT_MAX. */
TEST_F(limit, params_bounded)
{
	static const char * const params[] = {
		"max_pages_per_file", "max_pages_total",
	};
	unsigned int i;

	SETUP_SKIPPED(return);
	for (i = 0; i < ARRAY_SIZE(params); i++) {
		ASSERT_EQ(-EINVAL, set_param(params[i], 0));
		ASSERT_EQ(-EINVAL, set_param(params[i], (1LL << 20) + 1));
		ASSERT_EQ(-EINVAL, set_param(params[i], 1LL << 40));
		ASSERT_EQ(0, set_param(params[i], 1LL << 20));
		ASSERT_EQ(1LL << 20, gup_param(params[i]));
	}
}

/* Ids are not reused at once: a stale id names nobody's new session. */
TEST_F(limit, ids_not_reused)
{
	struct ctx *c = &self->ctx;
	__u32 a, b;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, page_size, GUP_API_PUP_FAST, 0,
			     &a, NULL));
	ASSERT_EQ(0, gup_unpin(c->fd, a, GUP_UNPIN_PLAIN));
	ASSERT_EQ(0, gup_pin(c->fd, c->addr, page_size, GUP_API_PUP_FAST, 0,
			     &b, NULL));
	ASSERT_NE(a, b);
	ASSERT_EQ(-EINVAL, gup_unpin(c->fd, a, GUP_UNPIN_PLAIN));
	ASSERT_EQ(0, gup_unpin(c->fd, b, GUP_UNPIN_PLAIN));
}

/*
 * One page pinned through many mappings from several files: the module-wide
 * bound stops the pins long before the page's refcount nears 2^31, where
 * try_grab_folio() WARNs. 2^20 pins of a small folio add 2^30. Each
 * session pins all MAPPINGS at once; 2^20 / MAPPINGS of them reach the
 * bound exactly. Few mappings keep the case short on a debug kernel:
 * there each mmap() and munmap() of a VMA costs about a millisecond under
 * TCG, while 2^20 pins take two seconds.
 */
#define MAPPINGS	4096
#define FILES		3

FIXTURE(bound)
{
};

FIXTURE_SETUP(bound)
{
}

FIXTURE_TEARDOWN(bound)
{
}

TEST_F_TIMEOUT(bound, one_page_pinned_to_the_bound, 300)
{
	struct gup_page_state before, after;
	long long total, sessions = 0;
	int fds[FILES], memfd, f, ret;
	char *area;
	__u32 id;
	size_t i;

	/*
	 * The mutation check runs the suite once per mutant; under the
	 * mutant without the module-wide bound this case would pin one page
	 * up to three files' bounds and overflow its refcount, and
	 * limit.module_wide kills that mutant without doing so.
	 */
	if (getenv("GUP_MUTATION_CHECK"))
		SKIP(return, "mutation check: limit.module_wide stands in");
	total = gup_param("max_pages_total");
	for (f = 0; f < FILES; f++) {
		fds[f] = gup_open();
		if (gup_open_skip(fds[f]))
			SKIP(return, "%s", gup_open_skip(fds[f]));
		ASSERT_LE(0, fds[f]);
	}
	ASSERT_LT(0, total);
	memfd = memfd_create("one_page", 0);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, page_size));
	area = mmap(NULL, MAPPINGS * page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	for (i = 0; i < MAPPINGS; i++)
		ASSERT_NE(MAP_FAILED, mmap(area + i * page_size, page_size,
					   PROT_READ | PROT_WRITE,
					   MAP_SHARED | MAP_FIXED, memfd, 0));
	/* Every mapping faulted in first: each holds a reference. */
	area[0] = 1;
	for (i = 1; i < MAPPINGS; i++)
		ASSERT_EQ(1, touch_read(area + i * page_size));
	ASSERT_EQ(0, gup_state_addr(fds[0], area, &before, 1));
	ASSERT_EQ(0, before.order);

	for (;;) {
		ret = gup_pin(fds[sessions % FILES], area, MAPPINGS * page_size,
			      GUP_API_PUP_FAST, 0, &id, NULL);
		if (ret)
			break;
		sessions++;
	}
	ASSERT_EQ(-E2BIG, ret);
	ASSERT_EQ(total / MAPPINGS, sessions);
	ASSERT_EQ(0, gup_state_addr(fds[0], area, &after, 1));
	ASSERT_EQ(before.refcount + sessions * MAPPINGS * GUP_BIAS,
		  after.refcount);

	for (f = 0; f < FILES; f++)
		close(fds[f]);
	f = gup_open();
	ASSERT_LE(0, f);
	ASSERT_EQ(0, gup_state_addr(f, area, &after, 1));
	ASSERT_EQ(before.refcount, after.refcount);
	close(f);
	munmap(area, MAPPINGS * page_size);
	close(memfd);
}

TEST_HARNESS_MAIN
