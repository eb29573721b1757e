# SPDX-License-Identifier: GPL-2.0
#
# make [all]       module/gup_test.ko; the selftests and gup_benchmark in
#                  build/bin; upstream's gup_test, unmodified, in build/upstream
# make check       the VM runner's own tests and the whole suite on every
#                  kernel of the matrix (./run_tests.sh --check)
# make mutants     the module mutation check, every mutant on every kernel
#                  of the matrix (./run_tests.sh --mutants)
# make kernel-mutants
#                  the kernel mutation check: each kernel mutant built into
#                  mainline and judged by the suite
#                  (tools/kernel-mutation-check)
# make bisect-demo tools/gup_benchmark/bisect on a series with one commit
#                  that costs GUP-fast a few instructions per page: it must
#                  name that one (tools/check/bisect-demo)
# make install     kselftest-style tree in INSTALL_PATH (default build/install)
# make checkpatch  checkpatch --strict on the module and the selftests
# make kselftest-target KSRC=<kernel tree>
#                  the suite as the tree's tools/testing/selftests/gup_pin/:
#                  make -C <tree>/tools/testing/selftests TARGETS=gup_pin
#                  then builds the module and the tests
# make patches KSRC=<kernel git tree or source tree> [PATCHES=<dir>]
#                  the series that adds the suite to the tree's
#                  tools/testing/selftests/mm/, for git am (default
#                  PATCHES=build/patches)
# make clean
#
# KDIR  kernel build tree or headers for the module (default: the headers of
#       Debian's current default kernel, which tools/vm/fetch-kernel unpacks
#       into the cache; nothing is installed)
# MODOUT  where to build the module (default: module/ itself); another
#       directory gets a copy of the sources, so that one checkout builds
#       the module for several kernels side by side
# KSRC  kernel source tree for the selftest headers, upstream's gup_test and
#       checkpatch (default: only those files, extracted from linux-source-6.1
#       into build/ksrc, and the kselftest harness from linux-source-6.12
#       into build/ksft: 6.1's cannot report XFAIL)

BUILD := $(CURDIR)/build
INSTALL_PATH ?= $(BUILD)/install
KSRC_TAR ?= /usr/src/linux-source-6.1.tar.xz
KSFT_TAR ?= /usr/src/linux-source-6.12.tar.xz

# Resolved on first use only: fetching is slow, and "make clean" needs none.
KDIR ?= $(eval KDIR := $(shell $(CURDIR)/tools/vm/fetch-kernel)/build)$(KDIR)
MODOUT ?= $(CURDIR)/module
MODULE_SRCS := $(wildcard module/*.c module/*.h) module/Kbuild

ifdef KSRC
KSRC_DIR := $(abspath $(KSRC))
KSRC_DEP :=
KSFT_DIR := $(KSRC_DIR)/tools/testing/selftests
KSFT_DEP :=
else
KSRC_DIR := $(BUILD)/ksrc
KSRC_DEP := $(KSRC_DIR)/.stamp
KSFT_DIR := $(BUILD)/ksft/tools/testing/selftests
KSFT_DEP := $(BUILD)/ksft/.stamp
endif

# What the build takes from a kernel tree; kernel files are never committed.
KSRC_FILES := $(addprefix tools/testing/selftests/, \
		kselftest.h kselftest_harness.h kselftest_module.h \
		vm/gup_test.c vm/util.h vm/vm_util.c vm/vm_util.h) \
	      mm/gup_test.h \
	      scripts/checkpatch.pl scripts/spelling.txt \
	      scripts/const_structs.checkpatch

# Generated *.mod.c files are kbuild's, not ours. The selftests and the
# measurement code they share go upstream in the mm series.
CHECKPATCH_FILES := $(filter-out %.mod.c,$(wildcard module/*.[ch])) \
		    tools/vm/tests/plant_warn/plant_warn.c \
		    $(wildcard selftests/*.[ch] selftests/*.sh tools/repro/*.c) \
		    $(wildcard tools/gup_benchmark/bench.[ch] \
			       tools/gup_benchmark/stats.[ch] \
			       tools/gup_benchmark/insn/gup_insn.c)

# $(call kbuild,DIR): build the external module in DIR against KDIR with W=1,
# keeping the output in DIR/kbuild.log; on failure show the compiler's
# errors, or the log's end when there are none (a broken tree, a missing
# tool).
define kbuild
	@test -f "$(KDIR)/Makefile" || { echo "no kernel build tree at KDIR=$(KDIR): set KDIR" >&2; exit 1; }
	@echo "  KBUILD  $(1) (KDIR=$(KDIR))"
	+@$(MAKE) -C $(KDIR) M=$(1) W=1 >$(1)/kbuild.log 2>&1 || \
	{ grep -i -E -A 2 'error:' $(1)/kbuild.log | tail -n 15 >&2 || \
	  tail -n 15 $(1)/kbuild.log >&2; \
	  echo "$(1): module build failed (full log: $(1)/kbuild.log)" >&2; \
	  exit 1; }
	@! grep -E 'warning:' $(1)/kbuild.log >&2 || \
	{ echo "$(1): the module builds with warnings" >&2; exit 1; }
endef

all: module selftests benchmark upstream

module:
ifneq ($(abspath $(MODOUT)),$(CURDIR)/module)
	@mkdir -p $(MODOUT)
	@cp -p $(MODULE_SRCS) $(MODOUT)/
endif
	$(call kbuild,$(abspath $(MODOUT)))

selftests: $(KSFT_DEP)
	$(MAKE) -C selftests OUTPUT=$(BUILD)/bin KSFT_INC=$(KSFT_DIR)

benchmark:
	$(MAKE) -C tools/gup_benchmark OUTPUT=$(BUILD)/bin

# Upstream's program as it is: only the include paths are ours. Kernels
# since 6.3 keep it in selftests/mm and link vm_util.c.
upstream: $(BUILD)/upstream/gup_test

$(BUILD)/upstream/gup_test: $(KSRC_DEP)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@src=$(KSRC_DIR)/tools/testing/selftests/mm; \
	test -f $$src/gup_test.c || src=$(KSRC_DIR)/tools/testing/selftests/vm; \
	extra=; ! grep -q '"vm_util.h"' $$src/gup_test.c || extra=$$src/vm_util.c; \
	$(CC) -O2 -Wall -static -pthread -I$(KSRC_DIR) -I$(KSRC_DIR)/usr/include \
		-o $@ $$src/gup_test.c $$extra

$(BUILD)/ksrc/.stamp: $(KSRC_TAR)
	@echo "  EXTRACT $(KSRC_TAR) -> build/ksrc"
	@rm -rf $(@D) && mkdir -p $(@D)
	@tar -xJf $< -C $(@D) --strip-components=1 --wildcards \
		$(addprefix $(basename $(basename $(notdir $<)))/,$(KSRC_FILES))
	@touch $@

# Where linux-source-6.12 cannot be installed (a bookworm whose sources
# lack bookworm-security), the harness comes from the tree that
# tools/vm/fetch-source keeps in the cache, fetched with its own apt
# configuration.
ifneq ($(wildcard $(KSFT_TAR)),)
$(BUILD)/ksft/.stamp: $(KSFT_TAR)
	@echo "  EXTRACT $(KSFT_TAR) -> build/ksft"
	@rm -rf $(@D) && mkdir -p $(@D)
	@# Dated now, not as packed: what was built against another is older.
	@tar -xJmf $< -C $(@D) --strip-components=1 --wildcards \
		$(addprefix $(basename $(basename $(notdir $<)))/tools/testing/selftests/, \
			    kselftest.h kselftest_harness.h)
	@touch $@
else
$(BUILD)/ksft/.stamp:
	@src=$$(tools/vm/fetch-source --debian 6.12) && \
	echo "  COPY    $$src/tools/testing/selftests/kselftest*.h -> build/ksft" && \
	rm -rf $(@D) && mkdir -p $(@D)/tools/testing/selftests && \
	cp $$src/tools/testing/selftests/kselftest.h \
	   $$src/tools/testing/selftests/kselftest_harness.h \
	   $(@D)/tools/testing/selftests/
	@touch $@
endif

$(KSRC_TAR):
	@echo "$@: missing: tools/deps.sh build installs it, or set KSRC" >&2
	@exit 1

# The module the runner's tests plant a WARN with, built out of the tree.
plant-warn:
	@mkdir -p $(BUILD)/plant_warn
	@cp -p tools/vm/tests/plant_warn/plant_warn.c \
		tools/vm/tests/plant_warn/Kbuild $(BUILD)/plant_warn/
	$(call kbuild,$(BUILD)/plant_warn)

# The reproducers of kernel bugs the suite found (tools/repro/*.c).
REPROS := $(patsubst tools/repro/%.c,$(BUILD)/repro/%,$(wildcard tools/repro/*.c))

repro: $(REPROS)

$(BUILD)/repro/%: tools/repro/%.c module/gup_test_abi.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Imodule -static -pthread -o $@ $<

$(BUILD):
	@mkdir -p $@

# The whole matrix, or with KDIR=<tree> that one kernel.
check:
	./run_tests.sh --check$(if $(filter command line environment,$(origin KDIR)), --kdir $(KDIR))

mutants:
	./run_tests.sh --mutants$(if $(filter command line environment,$(origin KDIR)), --kdir $(KDIR))

# The programs in build/bin; the kernels are the check's own.
kernel-mutants: selftests
	tools/kernel-mutation-check

bisect-demo: benchmark
	tools/check/bisect-demo

install: all
	@set -e; mkdir -p $(INSTALL_PATH)/upstream; \
	for prog in $$(cat $(BUILD)/bin/tests.list); do \
		install -m 755 $(BUILD)/bin/$$prog $(INSTALL_PATH)/; \
		echo "gup:$$prog"; \
	done >$(INSTALL_PATH)/kselftest-list.txt; \
	install -m 644 $(BUILD)/bin/tests.list $(INSTALL_PATH)/; \
	install -m 755 selftests/run_suite.sh $(BUILD)/bin/gup_benchmark \
		$(INSTALL_PATH)/; \
	install -m 644 selftests/ktap_lib.sh $(INSTALL_PATH)/; \
	install -m 755 $(BUILD)/upstream/gup_test $(INSTALL_PATH)/upstream/
	@echo "  INSTALL $(INSTALL_PATH)"

# 6.1's checkpatch and mainline's, which knows the newer APIs.
checkpatch: $(KSRC_DEP)
	perl $(KSRC_DIR)/scripts/checkpatch.pl --no-tree --strict -f $(CHECKPATCH_FILES)
	src=$$(tools/vm/fetch-source) && \
	perl $$src/scripts/checkpatch.pl --no-tree --strict -f $(CHECKPATCH_FILES)

PATCHES ?= $(BUILD)/patches

kselftest-target:
	@test -n "$(KSRC)" || { echo "make kselftest-target: set KSRC" >&2; exit 1; }
	tools/kselftest/series copy $(KSRC_DIR)/tools/testing/selftests/gup_pin
	@echo "  KSFT    $(KSRC_DIR)/tools/testing/selftests/gup_pin"

patches:
	@test -n "$(KSRC)" || { echo "make patches: set KSRC" >&2; exit 1; }
	tools/kselftest/series patches $(KSRC_DIR) $(PATCHES)

# No KDIR needed: the module's outputs are removed by name.
clean:
	rm -rf $(BUILD)
	cd module && rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order \
		Module.symvers kbuild.log

.PHONY: all module selftests benchmark upstream plant-warn repro check mutants \
	kernel-mutants bisect-demo install checkpatch kselftest-target patches clean
