/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Skipping from a FIXTURE_SETUP() the same way on every kselftest harness.
 * Before v6.9 the harness runs the test body (and the teardown) after its
 * setup skipped; since, it runs neither. A setup that skips with
 * SETUP_SKIP() first releases what it holds, and each body starts with
 * RETURN_IF_SETUP_SKIPPED(): right on both, with no look into the harness's
 * own state. Each test runs in a process of its own, so one flag will do.
 * Include after kselftest_harness.h.
 */
#ifndef GUP_SETUP_SKIP_H
#define GUP_SETUP_SKIP_H

#include <stdbool.h>

static bool gup_setup_skipped;

#define SETUP_SKIP(fmt, ...) do {					\
	gup_setup_skipped = true;					\
	SKIP(return, fmt, ##__VA_ARGS__);				\
} while (0)

#define RETURN_IF_SETUP_SKIPPED() do {					\
	if (gup_setup_skipped)						\
		return;							\
} while (0)

#endif /* GUP_SETUP_SKIP_H */
