# The targets the modules' Makefiles share (kmod/*/Makefile, test/fixtures/noise/Makefile): `make`
# in a module's folder builds it with Kbuild for KDIR (default: the running kernel), `make clean`
# removes what that left. Each Makefile sets obj-m and includes this only outside Kbuild's own pass,
# which reads obj-m alone: a copy of a module's folder by itself still builds with
# `make -C <kernel build dir> M=<that folder> modules`, as the action builds its helpers.
.PHONY: modules clean

KDIR ?= /lib/modules/$(shell uname -r)/build

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
