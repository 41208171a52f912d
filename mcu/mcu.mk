# On the chip (included by the Makefile): Debian's mbedTLS built for
# Cortex-M and RISC-V with config/mbedtls_lean_config.h, the unit tests and
# the footprint firmware on qemu (make test-qemu), its sizes (make size).
ARM_CC   ?= arm-none-eabi-gcc
MCU      := $(B)/mcu
MBEDTLS_SRC_DIR ?= third_party
MCU_LEAN := -Iconfig -DMBEDTLS_CONFIG_FILE='"mbedtls_lean_config.h"'
MCU_INC  := -I. -Iports -Imcu -isystem $(MCU)/inc -isystem $(MCU)/mbedtls-include $(MCU_LEAN)
MCU_OPT  := -Os -ffunction-sections -fdata-sections
MCU_M4   := -mcpu=cortex-m4 -mthumb
MCU_M0   := -mcpu=cortex-m0plus -mthumb
MCU_LD   := --specs=nano.specs -nostartfiles -Tmcu/mps2.ld -Wl,--gc-sections

# jsmn and Debian's mbedTLS source tree (fetched once by scripts/debian_source.sh)
$(MCU)/inc/jsmn.h:
	@mkdir -p $(MCU)/inc && ln -sf /usr/include/jsmn.h $@
$(MCU)/mbedtls-include/mbedtls/ssl.h:
	@mkdir -p $(MCU) && src=$$(sh scripts/debian_source.sh mbedtls $(MBEDTLS_SRC_DIR)) && \
	    rm -rf $(MCU)/mbedtls-src && ln -s $$src $(MCU)/mbedtls-src && ln -sfn $$src/include $(MCU)/mbedtls-include
MCU_DEPS := $(MCU)/inc/jsmn.h $(MCU)/mbedtls-include/mbedtls/ssl.h

$(MCU)/libmbedtls-m4.a: config/mbedtls_lean_config.h | $(MCU_DEPS)
	sh mcu/build_mbedtls.sh $(MCU)/mbedtls-src $@ $(ARM_CC) $(MCU_M4) $(MCU_OPT) $(MCU_LEAN)
$(MCU)/libmbedtls-m4-in4k.a: config/mbedtls_lean_config.h | $(MCU_DEPS)
	sh mcu/build_mbedtls.sh $(MCU)/mbedtls-src $@ $(ARM_CC) $(MCU_M4) $(MCU_OPT) $(MCU_LEAN) -DMBEDTLS_SSL_IN_CONTENT_LEN=4096
$(MCU)/libmbedtls-m0.a: config/mbedtls_lean_config.h | $(MCU_DEPS)
	sh mcu/build_mbedtls.sh $(MCU)/mbedtls-src $@ $(ARM_CC) $(MCU_M0) $(MCU_OPT) $(MCU_LEAN)

# the offline unit tests, Cortex-M4 (MPS2 AN386), the same tiny limits as on the host
$(MCU)/unit.elf: tests/unit.c tests/fake.h tests/check.h mcu/mcu.mk mcu/startup.c mcu/semihost.h mcu/mps2.ld $(HDRS) $(MCU)/libmbedtls-m4.a
	$(ARM_CC) $(MCU_M4) $(MCU_OPT) -g $(WARN) $(TINY) $(MCU_INC) -Itests tests/unit.c mcu/startup.c \
	    $(MCU_LD) $(MCU)/libmbedtls-m4.a -o $@

# the footprint firmware (mcu/firmware.c): one object per part, a map to split
# them. $(call firmware,DIR,CPU FLAGS,mbedTLS LIBRARY,EXTRA FLAGS[,LINK FLAGS])
MCU_FW_SRC := mcu/firmware.c mcu/utmstack_impl.c mcu/startup.c
comma := ,
define firmware
$(MCU)/$(1)/firmware.elf: $(MCU_FW_SRC) mcu/semihost.h mcu/mps2.ld mcu/mcu.mk $(HDRS) $(3)
	@mkdir -p $(MCU)/$(1)
	@echo "  firmware $(1)"; for f in $(MCU_FW_SRC); do $(ARM_CC) $(2) $(MCU_OPT) -g -fstack-usage $(WARN) $(MCU_INC) $(4) -c $$$$f \
	    -o $(MCU)/$(1)/$$$$(basename $$$$f .c).o || exit 1; done
	@$(ARM_CC) $(2) $(MCU_LD) $(5) -Wl,-Map=$(MCU)/$(1)/firmware.map $(MCU_FW_SRC:mcu/%.c=$(MCU)/$(1)/%.o) $(3) -o $$@
endef
$(eval $(call firmware,m4,$(MCU_M4),$(MCU)/libmbedtls-m4.a,))
$(eval $(call firmware,m0,$(MCU_M0),$(MCU)/libmbedtls-m0.a,))
$(eval $(call firmware,m4-notext,$(MCU_M4),$(MCU)/libmbedtls-m4.a,-DUTMSTACK_NO_TEXT))
$(eval $(call firmware,m0-notext,$(MCU_M0),$(MCU)/libmbedtls-m0.a,-DUTMSTACK_NO_TEXT))
$(eval $(call firmware,m4-key,$(MCU_M4),$(MCU)/libmbedtls-m4.a,-DFW_INTERNAL_KEY))
# 4 KiB records, in a part with 64 KiB of RAM: static data, a 6 KiB stack, the rest heap
$(eval $(call firmware,m4-in4k,$(MCU_M4),$(MCU)/libmbedtls-m4-in4k.a,-DMBEDTLS_SSL_IN_CONTENT_LEN=4096,\
    -Wl$(comma)--defsym=RAM_SIZE=65536 -Wl$(comma)--defsym=STACK_SIZE=6144))

# RISC-V rv32imac with picolibc (its crt0, linker script and semihosting)
RV_CC    ?= riscv64-unknown-elf-gcc
MCU_RV   := -march=rv32imac -mabi=ilp32 --specs=picolibc.specs
RV_LD    := --oslib=semihost --crt0=semihost -Wl,--gc-sections -Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x200000 \
            -Wl,--defsym=__ram=0x80200000 -Wl,--defsym=__ram_size=0x200000 -Wl,--defsym=__stack_size=0x10000 \
            -Wl,--defsym=__stack_top=__stack -Wl,--defsym=__stack_bottom=__stack-0x10000
$(MCU)/libmbedtls-rv32.a: config/mbedtls_lean_config.h | $(MCU_DEPS)
	sh mcu/build_mbedtls.sh $(MCU)/mbedtls-src $@ $(RV_CC) $(MCU_RV) $(MCU_OPT) $(MCU_LEAN)
$(MCU)/rv32/firmware.elf: mcu/firmware.c mcu/utmstack_impl.c mcu/semihost.h mcu/mcu.mk $(HDRS) $(MCU)/libmbedtls-rv32.a
	@mkdir -p $(MCU)/rv32
	@echo "  firmware rv32"; for f in firmware utmstack_impl; do $(RV_CC) $(MCU_RV) $(MCU_OPT) -g $(WARN) $(MCU_INC) \
	    -c mcu/$$f.c -o $(MCU)/rv32/$$f.o || exit 1; done
	@$(RV_CC) $(MCU_RV) $(RV_LD) -Wl,-Map=$(MCU)/rv32/firmware.map $(MCU)/rv32/firmware.o $(MCU)/rv32/utmstack_impl.o \
	    $(MCU)/libmbedtls-rv32.a -o $@

# the unit tests on RISC-V (qemu virt, rv32imac, picolibc)
$(MCU)/unit-rv32.elf: tests/unit.c tests/fake.h tests/check.h mcu/mcu.mk $(HDRS) $(MCU)/libmbedtls-rv32.a
	$(RV_CC) $(MCU_RV) $(MCU_OPT) -g $(WARN) $(TINY) $(MCU_INC) -Itests tests/unit.c $(RV_LD) \
	    $(MCU)/libmbedtls-rv32.a -o $@

MCU_SIZES := m4 m0 m4-notext m0-notext m4-key rv32
size: deps
	@$(MAKE) --no-print-directory $(MCU_SIZES:%=$(MCU)/%/firmware.elf)
	@$(PYTHON) mcu/size.py $(MCU_MAPS) stack=$(MCU)/m4/utmstack_impl.su
	@echo
	@$(PYTHON) mcu/size.py --markdown --check README.md $(MCU_MAPS)

MCU_MAPS = "Cortex-M4=$(MCU)/m4/firmware.map" "Cortex-M0+=$(MCU)/m0/firmware.map" \
	    "Cortex-M4, NO_TEXT=$(MCU)/m4-notext/firmware.map" "Cortex-M0+, NO_TEXT=$(MCU)/m0-notext/firmware.map" \
	    "Cortex-M4, internal key=$(MCU)/m4-key/firmware.map" \
	    "RISC-V rv32imac=$(MCU)/rv32/firmware.map"

QEMU_ELFS = $(MCU)/unit.elf $(MCU)/m4/firmware.elf $(MCU)/m4-notext/firmware.elf $(MCU)/m4-in4k/firmware.elf $(MCU)/m4-key/firmware.elf \
	    $(MCU)/unit-rv32.elf $(MCU)/rv32/firmware.elf
test-qemu: deps
	@$(MAKE) --no-print-directory $(QEMU_ELFS)
	@sh mcu/run_qemu.sh $(MCU)

# peak heap on the host: Debian's mbedTLS against the same source built lean
HEAP_WRAP := -Wl,--wrap=calloc -Wl,--wrap=free
$(B)/host-lean/libmbedtls-lean.a: config/mbedtls_lean_config.h | $(MCU_DEPS)
	@mkdir -p $(B)/host-lean
	sh mcu/build_mbedtls.sh $(MCU)/mbedtls-src $@ $(CC) -O2 $(MCU_LEAN)
$(B)/heap-debian: bench/heap.c $(HDRS)
	$(CC) -O2 -g $(WARN) $(INC) $< -o $@ $(HEAP_WRAP) -Wl,-Bstatic $(MBEDTLS_LIBS) -Wl,-Bdynamic
$(B)/heap-lean: bench/heap.c $(HDRS) $(B)/host-lean/libmbedtls-lean.a
	$(CC) -O2 -g $(WARN) -I. -Iports -isystem $(MCU)/mbedtls-include $(MCU_LEAN) $< -o $@ $(HEAP_WRAP) \
	    $(B)/host-lean/libmbedtls-lean.a
heap: deps
	@$(MAKE) --no-print-directory $(B)/heap-debian $(B)/heap-lean
	@sh bench/heap.sh $(B)
