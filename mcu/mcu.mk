# On the chip (included by the Makefile): Debian's mbedTLS built for
# Cortex-M and RISC-V with config/mbedtls_lean_config.h, the unit tests and
# the footprint firmware on qemu (make test-qemu), its sizes (make size).
ARM_CC   ?= arm-none-eabi-gcc
MCU      := $(B)/mcu
MBEDTLS_SRC_DIR ?= third_party
MCU_LEAN := -Iconfig -DMBEDTLS_CONFIG_FILE='"mbedtls_lean_config.h"'
MCU_INC  := -I. -Iports -Imcu -isystem $(MCU)/inc -isystem $(MCU)/mbedtls-include $(MCU_LEAN)
# mbedTLS 4.0 + TF-PSA-Crypto 1.0 from ../shared/third_party (scripts/mbedtls_build.sh
# unpacks it), with the lean configuration pair; where its sources cannot be
# had, its firmware is not built and run_qemu.sh / size.py say so.
MCU4_SRC  := $(MCU)/mbedtls4-src
MCU4_INC  := -I. -Iports -Imcu -isystem $(MCU)/inc -isystem $(MCU4_SRC)/include -isystem $(MCU4_SRC)/tf-psa-crypto/include \
             -isystem $(MCU4_SRC)/tf-psa-crypto/drivers/builtin/include -Iconfig \
             -DMBEDTLS_CONFIG_FILE='"mbedtls4_lean_config.h"' -DTF_PSA_CRYPTO_CONFIG_FILE='"tfpsa_lean_config.h"' \
             -DUTMSTACK_PSA_ENTROPY_FN=fw_entropy
# (found, not unpacked, at parse time: the rules below unpack when needed)
MCU4_OK   := $(wildcard ../shared/third_party/mbedtls-4.0.0.tar.gz third_party/src/mbedtls-4.0.0/CMakeLists.txt)
# and mbedTLS 3.6 LTS (the 3.6.6 tag) with the same lean header as 2.28
MCU36_SRC := $(MCU)/mbedtls36-src
MCU36_OK  := $(wildcard ../shared/third_party/mbedtls-3.6.6.tar.gz third_party/src/mbedtls-3.6.6/CMakeLists.txt)
MCU_INC_m4-v4  = $(MCU4_INC)
MCU_INC_m4-v36 = -I. -Iports -Imcu -isystem $(MCU)/inc -isystem $(MCU36_SRC)/include $(MCU_LEAN)
MCU_OPT  := -Os -ffunction-sections -fdata-sections

# jsmn and Debian's mbedTLS source tree (fetched once by scripts/debian_source.sh)
$(MCU)/inc/jsmn.h:
	@mkdir -p $(MCU)/inc && ln -sf /usr/include/jsmn.h $@
$(MCU)/mbedtls-include/mbedtls/ssl.h:
	@mkdir -p $(MCU) && src=$$(sh scripts/debian_source.sh mbedtls $(MBEDTLS_SRC_DIR)) && \
	    rm -rf $(MCU)/mbedtls-src && ln -s $$src $(MCU)/mbedtls-src && ln -sfn $$src/include $(MCU)/mbedtls-include
MCU_DEPS := $(MCU)/inc/jsmn.h $(MCU)/mbedtls-include/mbedtls/ssl.h
$(MCU4_SRC)/CMakeLists.txt:
	@mkdir -p $(MCU) && src=$$(sh scripts/mbedtls_build.sh --source 4.0.0) && ln -sfn $$src $(MCU4_SRC)
$(MCU36_SRC)/CMakeLists.txt:
	@mkdir -p $(MCU) && src=$$(sh scripts/mbedtls_build.sh --source 3.6.6) && ln -sfn $$src $(MCU36_SRC)

# Targets: compiler and CPU flags, link flags, startup. Cortex-M on qemu's
# MPS2 with our startup and newlib-nano; RISC-V rv32imac on qemu's virt with
# picolibc (its crt0, linker script and semihosting).
RV_CC    ?= riscv64-unknown-elf-gcc
MCU_CC_m4    = $(ARM_CC) -mcpu=cortex-m4 -mthumb
MCU_CC_m0    = $(ARM_CC) -mcpu=cortex-m0plus -mthumb
MCU_CC_rv32  = $(RV_CC) -march=rv32imac -mabi=ilp32 --specs=picolibc.specs
MCU_LD_m4    = --specs=nano.specs -nostartfiles -Tmcu/mps2.ld -Wl,--gc-sections
MCU_LD_m0    = $(MCU_LD_m4)
MCU_LD_rv32  = --oslib=semihost --crt0=semihost -Wl,--gc-sections -Wl,--defsym=__flash=0x80000000 \
               -Wl,--defsym=__flash_size=0x200000 -Wl,--defsym=__ram=0x80200000 -Wl,--defsym=__ram_size=0x200000 \
               -Wl,--defsym=__stack_size=0x10000 -Wl,--defsym=__stack_top=__stack -Wl,--defsym=__stack_bottom=__stack-0x10000
MCU_START_m4 = mcu/startup.c
MCU_START_m0 = mcu/startup.c
MCU_START_rv32 =
comma := ,

# mbedTLS for a target: $(call mbedtls,NAME,TARGET,EXTRA FLAGS) -> $(MCU)/libmbedtls-NAME.a
define mbedtls
$(MCU)/libmbedtls-$(1).a: config/mbedtls_lean_config.h | $(MCU_DEPS)
	sh mcu/build_mbedtls.sh $(MCU)/mbedtls-src $$@ $(MCU_CC_$(2)) $(MCU_OPT) $(MCU_LEAN) $(3)
endef
$(eval $(call mbedtls,m4,m4,))
$(eval $(call mbedtls,m0,m0,))
$(eval $(call mbedtls,rv32,rv32,))
$(eval $(call mbedtls,m4-in4k,m4,-DMBEDTLS_SSL_IN_CONTENT_LEN=4096))
$(MCU)/libmbedtls-m4-v4.a: config/mbedtls4_lean_config.h config/tfpsa_lean_config.h mcu/build_mbedtls4.sh \
    | $(MCU)/inc/jsmn.h $(MCU4_SRC)/CMakeLists.txt
	sh mcu/build_mbedtls4.sh $(MCU4_SRC)/ $@ $(MCU_CC_m4) $(MCU_OPT)
$(MCU)/libmbedtls-m4-v36.a: config/mbedtls_lean_config.h | $(MCU)/inc/jsmn.h $(MCU36_SRC)/CMakeLists.txt
	sh mcu/build_mbedtls.sh $(MCU36_SRC) $@ $(MCU_CC_m4) $(MCU_OPT) $(MCU_LEAN)

# the offline unit tests, with the host's tiny limits: $(call unit,TARGET) -> $(MCU)/unit-TARGET.elf
define unit
$(MCU)/unit-$(1).elf: tests/unit.c tests/fake.h tests/check.h tests/json_oracle.h $(MCU_START_$(1)) mcu/semihost.h mcu/mps2.ld \
    mcu/mcu.mk $(HDRS) $(MCU)/libmbedtls-$(1).a
	$(MCU_CC_$(1)) $(MCU_OPT) -g $(WARN) $(TINY) $(MCU_INC) -Itests tests/unit.c $(MCU_START_$(1)) \
	    $(MCU_LD_$(1)) $(MCU)/libmbedtls-$(1).a -o $$@
endef
$(eval $(call unit,m4))
$(eval $(call unit,rv32))

# the footprint firmware (mcu/firmware.c), one object per part and a map to
# split them: $(call firmware,DIR,TARGET,mbedTLS NAME,EXTRA FLAGS[,LINK FLAGS])
# (the mbedTLS named m4-v4 is 4.0, m4-v36 3.6, each with its include path)
define firmware
$(MCU)/$(1)/firmware.elf: mcu/firmware.c mcu/utmstack_impl.c $(MCU_START_$(2)) mcu/semihost.h mcu/mps2.ld \
    mcu/mcu.mk $(HDRS) $(MCU)/libmbedtls-$(3).a
	@mkdir -p $(MCU)/$(1)
	@echo "  firmware $(1)"; for f in mcu/firmware.c mcu/utmstack_impl.c $(MCU_START_$(2)); do \
	    $(MCU_CC_$(2)) $(MCU_OPT) -g -fstack-usage $(WARN) $(or $(MCU_INC_$(3)),$(MCU_INC)) $(4) -c $$$$f \
	    -o $(MCU)/$(1)/$$$$(basename $$$$f .c).o || exit 1; done
	@$(MCU_CC_$(2)) $(MCU_LD_$(2)) $(5) -Wl,-Map=$(MCU)/$(1)/firmware.map \
	    $(patsubst mcu/%.c,$(MCU)/$(1)/%.o,mcu/firmware.c mcu/utmstack_impl.c $(MCU_START_$(2))) \
	    $(MCU)/libmbedtls-$(3).a -o $$@
endef
$(eval $(call firmware,m4,m4,m4,))
$(eval $(call firmware,m0,m0,m0,))
$(eval $(call firmware,m4-notext,m4,m4,-DUTMSTACK_NO_TEXT))
$(eval $(call firmware,m0-notext,m0,m0,-DUTMSTACK_NO_TEXT))
$(eval $(call firmware,m4-key,m4,m4,-DFW_INTERNAL_KEY))
# the "small" RAM profile (README, "RAM profiles"): the internal key, 4 KiB TLS
# records, the smallest layout that holds a 2 KB alert; the whole session (client,
# peak heap, stack) must fit 32 KiB, a check of the firmware's own on qemu
SMALL_PROFILE := -DUTMSTACK_BUF_SIZE=1024 -DUTMSTACK_DOC_SIZE=2048 -DUTMSTACK_JSON_TOKENS=192 \
                 -DUTMSTACK_TOKEN_MAX=128 -DUTMSTACK_HOST_MAX=64 -DUTMSTACK_ERRMSG_MAX=96
$(eval $(call firmware,m4-small,m4,m4-in4k,-DMBEDTLS_SSL_IN_CONTENT_LEN=4096 -DFW_INTERNAL_KEY $(SMALL_PROFILE) \
    -DFW_RAM_BUDGET=32768,-Wl$(comma)--defsym=RAM_SIZE=65536 -Wl$(comma)--defsym=STACK_SIZE=6144))
# a device that only sends requests with the internal key: server texts kept, or none
$(eval $(call firmware,m4-req,m4,m4,-DFW_INTERNAL_KEY -DFW_REQUEST_ONLY -DUTMSTACK_TEXT=1))
$(eval $(call firmware,m0-req,m0,m0,-DFW_INTERNAL_KEY -DFW_REQUEST_ONLY -DUTMSTACK_TEXT=1))
$(eval $(call firmware,m4-req-notext,m4,m4,-DFW_INTERNAL_KEY -DFW_REQUEST_ONLY -DUTMSTACK_TEXT=0))
# the same with 1.0's API (the deprecated config fields gone: no key parser)
$(eval $(call firmware,m4-req-v1,m4,m4,-DFW_INTERNAL_KEY -DFW_REQUEST_ONLY -DUTMSTACK_TEXT=1 -DUTMSTACK_DEPRECATED_REMOVED))
# a login + search device (no request of its own), and one linking every public function
$(eval $(call firmware,m4-search,m4,m4,-DFW_SEARCH_ONLY))
$(eval $(call firmware,m4-all,m4,m4,-DFW_EVERYTHING))
$(eval $(call firmware,rv32,rv32,rv32,))
$(eval $(call firmware,m4-v4,m4,m4-v4,))
$(eval $(call firmware,m4-v36,m4,m4-v36,))
# 4 KiB records, in a part with 64 KiB of RAM: static data, a 6 KiB stack, the rest heap
$(eval $(call firmware,m4-in4k,m4,m4-in4k,-DMBEDTLS_SSL_IN_CONTENT_LEN=4096,\
    -Wl$(comma)--defsym=RAM_SIZE=65536 -Wl$(comma)--defsym=STACK_SIZE=6144))

MCU_V     := $(if $(MCU36_OK),m4-v36) $(if $(MCU4_OK),m4-v4)
MCU_SIZES := m4 m0 m4-notext m0-notext m4-key m4-req m0-req m4-req-notext m4-req-v1 m4-search m4-all m4-small rv32 $(MCU_V)
size: deps-chip
	@$(MAKE) --no-print-directory $(MCU_SIZES:%=$(MCU)/%/firmware.elf) $(RTOS_ELFS)
	@$(PYTHON) mcu/size.py --check README.md stack=$(MCU)/m4/utmstack_impl.su $(MCU_MAPS)

MCU_MAPS = "Cortex-M4=$(MCU)/m4/firmware.map" "Cortex-M0+=$(MCU)/m0/firmware.map" \
	    "Cortex-M4, NO_TEXT=$(MCU)/m4-notext/firmware.map" "Cortex-M0+, NO_TEXT=$(MCU)/m0-notext/firmware.map" \
	    "Cortex-M4, internal key=$(MCU)/m4-key/firmware.map" \
	    "Cortex-M4, key + utm_request, server texts=$(MCU)/m4-req/firmware.map" \
	    "Cortex-M0+, key + utm_request, server texts=$(MCU)/m0-req/firmware.map" \
	    "Cortex-M4, key + utm_request, no texts=$(MCU)/m4-req-notext/firmware.map" \
	    "Cortex-M4, key + utm_request, server texts, 1.0 API=$(MCU)/m4-req-v1/firmware.map" \
	    "Cortex-M4, login + search, every text=$(MCU)/m4-search/firmware.map" \
	    "Cortex-M4, everything, every text=$(MCU)/m4-all/firmware.map" \
	    "Cortex-M4, small RAM profile=$(MCU)/m4-small/firmware.map" \
	    "RISC-V rv32imac=$(MCU)/rv32/firmware.map" \
	    "Cortex-M4, mbedTLS 3.6=$(MCU)/m4-v36/firmware.map" "Cortex-M4, mbedTLS 4.0=$(MCU)/m4-v4/firmware.map" \
	    "mbedTLS 2.28=$(MCU)/rtos/firmware.map" "mbedTLS 3.6=$(MCU)/rtos-v36/firmware.map" \
	    "mbedTLS 4.0=$(MCU)/rtos-v4/firmware.map"

QEMU_ELFS = $(MCU)/unit-m4.elf $(MCU)/unit-rv32.elf \
	    $(patsubst %,$(MCU)/%/firmware.elf,m4 m4-notext m4-in4k m4-key m4-req m4-req-v1 m4-search m4-all m4-small rv32 $(MCU_V))
test-qemu: deps-chip
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
heap: deps-chip
	@$(MAKE) --no-print-directory $(B)/heap-debian $(B)/heap-lean
	@sh bench/heap.sh $(B)

# The RTOS firmware (mcu/rtos/): the library in a FreeRTOS task over
# FreeRTOS-Plus-TCP and the board's LAN9118, on qemu's mps2-an386 with
# -nic user (make test-rtos). Kernel and stack from ../shared/third_party,
# unpacked (and the LAN9118 driver fixed) by mcu/rtos/freertos_source.sh;
# where they are absent, nothing here is built and test-rtos says so.
RTOS_OK   := $(wildcard ../shared/third_party/FreeRTOS-Kernel-*.tar.gz third_party/src/freertos/.done)
RTOS_SRC  := third_party/src/freertos
RTOS_K    := $(RTOS_SRC)/FreeRTOS-Kernel
RTOS_T    := $(RTOS_SRC)/FreeRTOS-Plus-TCP/source
RTOS_N    := $(RTOS_T)/portable/NetworkInterface/MPS2_AN385
RTOS_INC  := -Imcu/rtos -isystem $(RTOS_K)/include -isystem $(RTOS_K)/portable/GCC/ARM_CM4F -isystem $(RTOS_T)/include \
             -isystem $(RTOS_T)/portable/Compiler/GCC -isystem $(RTOS_N)
MCU_CC_m4f = $(ARM_CC) -mcpu=cortex-m4 -mthumb -mfloat-abi=softfp -mfpu=fpv4-sp-d16
$(RTOS_SRC)/.done:
	@sh mcu/rtos/freertos_source.sh >/dev/null
$(MCU)/rtos-lib/libfreertos-kernel.a: mcu/rtos/FreeRTOSConfig.h mcu/rtos/FreeRTOSIPConfig.h mcu/rtos/build_freertos.sh \
    | $(RTOS_SRC)/.done
	@echo "  FreeRTOS kernel + FreeRTOS-Plus-TCP"
	@sh mcu/rtos/build_freertos.sh $(RTOS_SRC) $(MCU)/rtos-lib $(MCU_CC_m4f) $(MCU_OPT)
$(MCU)/rtos-lib/libfreertos-tcp.a: $(MCU)/rtos-lib/libfreertos-kernel.a
# $(call rtos,DIR,mbedTLS NAME,EXTRA FLAGS)
define rtos
$(MCU)/$(1)/firmware.elf: mcu/rtos/firmware.c mcu/rtos/utmstack_impl_frt.c mcu/startup.c mcu/semihost.h mcu/mps2.ld \
    mcu/mcu.mk ports/utmstack_freertos_tcp.h $(HDRS) $(MCU)/libmbedtls-$(2).a $(MCU)/rtos-lib/libfreertos-tcp.a
	@mkdir -p $(MCU)/$(1)
	@echo "  firmware $(1)"; for f in mcu/rtos/firmware.c mcu/rtos/utmstack_impl_frt.c mcu/startup.c; do \
	    $(MCU_CC_m4f) $(MCU_OPT) -g -fstack-usage $(WARN) $(or $(MCU_INC_$(2)),$(MCU_INC)) $(RTOS_INC) \
	    -DSTARTUP_OWN_VECTORS $(3) -c $$$$f -o $(MCU)/$(1)/$$$$(basename $$$$f .c).o || exit 1; done
	@$(MCU_CC_m4f) $(MCU_LD_m4) -Wl,--defsym=STACK_SIZE=4096 -Wl,-Map=$(MCU)/$(1)/firmware.map \
	    $(MCU)/$(1)/firmware.o $(MCU)/$(1)/utmstack_impl_frt.o $(MCU)/$(1)/startup.o \
	    $(MCU)/rtos-lib/libfreertos-tcp.a $(MCU)/rtos-lib/libfreertos-kernel.a $(MCU)/libmbedtls-$(2).a -o $$@
endef
$(eval $(call rtos,rtos,m4,))
$(eval $(call rtos,rtos-v36,m4-v36,))
$(eval $(call rtos,rtos-v4,m4-v4,))
RTOS_ELFS := $(if $(RTOS_OK),$(MCU)/rtos/firmware.elf $(if $(MCU36_OK),$(MCU)/rtos-v36/firmware.elf) \
             $(if $(MCU4_OK),$(MCU)/rtos-v4/firmware.elf))
test-rtos: deps-chip
	@$(if $(RTOS_ELFS),$(MAKE) --no-print-directory $(RTOS_ELFS))
	@sh mcu/rtos/run.sh $(MCU)
