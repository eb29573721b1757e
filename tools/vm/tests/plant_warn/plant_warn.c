// SPDX-License-Identifier: GPL-2.0
/*
 * Warn once on load and nothing else: the VM runner's tests load this to
 * check that a WARNING in the guest's kernel log fails the run.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init plant_warn_init(void)
{
	WARN(1, "plant_warn: planted by the VM runner's tests\n");
	return 0;
}
module_init(plant_warn_init);

static void __exit plant_warn_exit(void)
{
}
module_exit(plant_warn_exit);

MODULE_DESCRIPTION("WARN on load, to test the VM runner's kernel log scan");
MODULE_LICENSE("GPL");
