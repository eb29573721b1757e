/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Skipping from a FIXTURE_SETUP() the same way on every kselftest harness.
 * Before v6.9 the harness runs the test body (and the teardown) after its
 * setup skipped; since, it runs neither. A setup that skips with
 * SETUP_SKIP(return, ...) first releases what it holds, and each body
 * starts with SETUP_SKIPPED(return): right on both, with no look into the
 * harness's own state. Each test runs in a process of its own, so one flag
 * will do. The statement is an argument, as in the harness's SKIP(). And
 * an expected failure, the same way on every harness.
 * Include after kselftest_harness.h.
 */
#ifndef GUP_SETUP_SKIP_H
#define GUP_SETUP_SKIP_H

#include <stdbool.h>

static bool gup_setup_skipped;

#define SETUP_SKIP(statement, fmt, ...) do {				\
	gup_setup_skipped = true;					\
	SKIP(statement, fmt, ##__VA_ARGS__);				\
} while (0)

#define SETUP_SKIPPED(statement) do {					\
	if (gup_setup_skipped)						\
		statement;						\
} while (0)

/*
 * Ends the case as an expected failure, a known kernel bug's: KSFT_XFAIL,
 * which the harness reports as "ok ... # XFAIL REASON" since v6.12. An
 * older harness has no such result, and fails the case.
 */
static inline void known_bug_seen(struct __test_metadata *_metadata,
				  const char *reason)
{
#ifdef KSELFTEST_PRIO_XFAIL
	snprintf(_metadata->results->reason,
		 sizeof(_metadata->results->reason), "%s", reason);
	_metadata->exit_code = KSFT_XFAIL;
#else
	ASSERT_TRUE(false)
		TH_LOG("a known kernel bug, and no XFAIL in this harness: %s",
		       reason);
#endif
}

#endif /* GUP_SETUP_SKIP_H */
