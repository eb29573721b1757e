/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels gup_test builds against, in one place.
 * Kbuild detects them in the kernel headers (GUP_TEST_HAVE_*). Built and
 * run on Debian's 6.1 and 6.12 and on mainline 7.3.
 */
#ifndef GUP_TEST_COMPAT_H
#define GUP_TEST_COMPAT_H

#include <linux/mm.h>

/* v6.5 dropped the vmas argument of get_user_pages() and pin_user_pages(). */
#ifdef GUP_TEST_HAVE_VMAS_ARG
#define compat_get_user_pages(start, nr, flags, pages) \
	get_user_pages(start, nr, flags, pages, NULL)
#define compat_pin_user_pages(start, nr, flags, pages) \
	pin_user_pages(start, nr, flags, pages, NULL)
#else
#define compat_get_user_pages(start, nr, flags, pages) \
	get_user_pages(start, nr, flags, pages)
#define compat_pin_user_pages(start, nr, flags, pages) \
	pin_user_pages(start, nr, flags, pages)
#endif

/*
 * v6.2 made FOLL_TOUCH internal to mm/: a caller can no longer ask for it,
 * and the gup functions decide themselves.
 */
#ifdef FOLL_TOUCH
#define COMPAT_FOLL_TOUCH	FOLL_TOUCH
#else
#define COMPAT_FOLL_TOUCH	0
#endif

/*
 * Exact pincount of a folio that keeps one; others (small folios, and
 * order-1 folios on 32-bit since v6.10) count pins in the refcount: 0.
 */
static inline int compat_folio_pincount(struct folio *folio)
{
#ifdef GUP_TEST_HAVE_FOLIO_HAS_PINCOUNT
	if (!folio_has_pincount(folio))
		return 0;
#else
	if (!folio_test_large(folio))
		return 0;
#endif
#ifdef GUP_TEST_HAVE_FOLIO_PINCOUNT_PTR
	return atomic_read(folio_pincount_ptr(folio));
#else
	return atomic_read(&folio->_pincount);
#endif
}

/*
 * Mappings of the page: page_mapcount() where the kernel has it; v6.12
 * removed it, and folio_mapcount() is what is left to ask (the same for a
 * small folio, the whole folio's count for a large one).
 */
static inline int compat_mapcount(struct page *page)
{
#ifdef GUP_TEST_HAVE_PAGE_MAPCOUNT
	return page_mapcount(page);
#else
	return folio_mapcount(page_folio(page));
#endif
}

/*
 * The shared zero page, which pins leave alone. The huge zero folio is not
 * exported to modules, and 6.1 pins it like any other large folio.
 */
static inline bool compat_is_zero_page(struct page *page)
{
	return is_zero_pfn(page_to_pfn(page));
}

/*
 * Anon-exclusive is tracked on the head page of a hugetlb folio and of a
 * PMD-mapped THP (a PMD split copies it to every page); per page otherwise.
 */
static inline bool compat_page_anon_exclusive(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (!folio_test_anon(folio))
		return false;
	if (folio_test_hugetlb(folio) ||
	    (folio_test_large(folio) && folio_entire_mapcount(folio)))
		return PageAnonExclusive(&folio->page);
	return PageAnonExclusive(page);
}

/* The typed allocators of 7.x, which its checkpatch asks for. */
#ifndef kzalloc_obj
#define kzalloc_obj(obj, gfp)	kzalloc(sizeof(obj), gfp)
#endif

#endif /* GUP_TEST_COMPAT_H */
