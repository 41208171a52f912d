# utmstack.h - build, test, demo.  `make help` lists the targets.
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
MBEDTLS_CFLAGS ?=
MBEDTLS_LIBS   ?= -lmbedtls -lmbedx509 -lmbedcrypto
JSMN_CFLAGS    ?=
PYTHON  ?= python3
B       ?= build
INC     := -I. -Iports $(MBEDTLS_CFLAGS) $(JSMN_CFLAGS)
HDRS    := utmstack.h ports/utmstack_posix.h
LWIP_CFLAGS ?= -I/usr/include/lwip
LWIP_LIBS   ?= -llwip -lpthread

PROGRAMS := $(B)/utmstack $(B)/quickstart $(B)/minimal $(B)/sizes $(B)/utmstack_bench

.PHONY: all utmstack deps deps-demo deps-chip test test-asan test-valgrind test-qemu test-rtos fuzz coverage bench fleet demo sizes size heap install uninstall clean help
all: $(PROGRAMS)

help:
	@echo "make          build $(PROGRAMS)"
	@echo "make test     install missing Debian packages, then every test (N passed, N failed),"
	@echo "              also on upstream mbedTLS 3.6.6 and 4.0.0 (built once into third_party/)"
	@echo "make test-asan      the same suites built with ASan + UBSan (clang)"
	@echo "make test-valgrind  the same suites under valgrind memcheck"
	@echo "make test-qemu the on-chip suites alone: unit tests and TLS firmware on qemu (Cortex-M4, RISC-V)"
	@echo "make test-rtos the FreeRTOS + FreeRTOS-Plus-TCP firmware alone, on qemu's mps2-an386 with its LAN9118"
	@echo "make size     flash and RAM of a firmware image: Cortex-M4, M0+, RISC-V (-Os); checks README.md"
	@echo "make heap     peak heap of a TLS login + search: Debian's mbedTLS and the lean config"
	@echo "make fuzz     each libFuzzer harness for FUZZ_SECONDS (30) seconds"
	@echo "make coverage line and branch coverage of utmstack.h and the port (gcovr)"
	@echo "make demo     the tool against a local UTMStack emulator"
	@echo "make sizes    what a utm_client_t costs"
	@echo "make bench    utmstack.h against libcurl (OpenSSL and mbedTLS) on nginx; bench/RESULTS.md"
	@echo "make fleet    200 devices against one emulated server: logins, lock, outage (about 4 min)"
	@echo "make utmstack the tool alone (needs only gcc, make, libmbedtls-dev, libjsmn-dev)"
	@echo "make install  PREFIX=/usr/local DESTDIR=: the tool, its man page and completions, the"
	@echo "              headers, utmstack.pc, the CMake package"
	@echo "make uninstall"
	@echo "make clean"

$(B):
	@mkdir -p $(B)

$(B)/utmstack: examples/utmstack_cli.c $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@ $(MBEDTLS_LIBS)

$(B)/quickstart: examples/quickstart.c $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@ $(MBEDTLS_LIBS)

$(B)/minimal: examples/minimal.c $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@ $(MBEDTLS_LIBS)

$(B)/utmstack_bench: bench/utmstack_bench.c bench/bench_common.h $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@ $(MBEDTLS_LIBS)

$(B)/fleet: bench/fleet.c $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@ $(MBEDTLS_LIBS) -lpthread

$(B)/sizes: examples/sizes.c utmstack.h | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@

sizes: $(B)/sizes
	@$(B)/sizes

# Unit tests run with deliberately tiny limits, so every limit path runs.
TINY := -DUTMSTACK_BUF_SIZE=512 -DUTMSTACK_DOC_SIZE=512 -DUTMSTACK_JSON_TOKENS=64 \
        -DUTMSTACK_MAX_HEADERS=16 -DUTMSTACK_MAX_HEADER_BYTES=2048 -DUTMSTACK_TOKEN_MAX=400

$(B)/unit: tests/unit.c tests/fake.h tests/check.h tests/json_oracle.h $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(TINY) $(INC) $< -o $@ $(MBEDTLS_LIBS)

$(B)/integration: tests/integration.c tests/check.h $(HDRS) | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) $< -o $@ $(MBEDTLS_LIBS)

# the lwIP port on Debian's lwIP 2.1.3 (unix port, tapif, sockets)
$(B)/lwip_test: tests/lwip_test.c ports/utmstack_lwip.h tests/check.h utmstack.h | $(B)
	$(CC) $(CFLAGS) $(WARN) $(INC) -Itests $(LWIP_CFLAGS) $< -o $@ $(LWIP_LIBS) $(MBEDTLS_LIBS)

# the Debian packages each target needs (scripts/deps.sh groups)
deps:
	@sh scripts/deps.sh test
deps-demo:
	@sh scripts/deps.sh demo
deps-chip:
	@sh scripts/deps.sh chip

include mcu/mcu.mk

test: deps
	@$(MAKE) --no-print-directory all $(B)/unit $(B)/integration $(B)/lwip_test
	@if [ "$(B)" = build ]; then $(MAKE) --no-print-directory $(QEMU_ELFS) $(RTOS_ELFS); fi
	@B=$(B) sh tests/run.sh

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-asan: deps
	@$(MAKE) --no-print-directory B=build-asan CC=clang CFLAGS="$(ASAN_FLAGS)" all build-asan/unit build-asan/integration build-asan/lwip_test
	@B=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 sh tests/run.sh

VALGRIND := valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
test-valgrind: deps
	@$(MAKE) --no-print-directory all $(B)/unit $(B)/integration $(B)/lwip_test
	@B=$(B) RUNNER="$(VALGRIND)" UTM_UNDER_VALGRIND=1 sh tests/run.sh

FUZZERS := http split json jwt encode jsondiff
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 30
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fake.h tests/json_oracle.h $(HDRS)
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -std=c99 -Wall -Wextra $(TINY) $(INC) $< -o $@ $(MBEDTLS_LIBS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZERS:%=build-fuzz/fuzz_%)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

# The peers: libcurl over OpenSSL (Debian's), and over mbedTLS 2.28 built by
# bench/build_curl_mbedtls.sh from Debian's curl source outside the tree.
# a fleet of devices against one emulated server (README, "A fleet"); about 4 min
FLEET_ARGS ?=
fleet: deps-demo
	@$(MAKE) --no-print-directory $(B)/fleet
	$(PYTHON) bench/fleet.py $(B) $(FLEET_ARGS)

BENCH_DIR ?= /tmp/utmstack-bench
bench: deps
	@sh scripts/deps.sh bench
	@$(MAKE) --no-print-directory $(B)/utmstack_bench
	$(CC) -O2 -g -std=c99 -Wall -Wextra bench/curl_bench.c -o $(B)/curl_bench_openssl -lcurl
	@prefix=$$(sh bench/build_curl_mbedtls.sh $(BENCH_DIR)) && \
	    $(CC) -O2 -g -std=c99 -Wall -Wextra -I$$prefix/include bench/curl_bench.c -o $(B)/curl_bench_mbedtls \
	    $$prefix/lib/libcurl.a -lmbedtls -lmbedx509 -lmbedcrypto -lz \
	    || echo "bench: libcurl over mbedTLS did not build; running without it"
	@inst=$$(sh scripts/mbedtls_build.sh 4.0.0) && \
	    $(CC) $(CFLAGS) $(WARN) -I. -Iports -I$$inst/include bench/utmstack_bench.c -o $(B)/utmstack_bench_mbedtls4 \
	    $$inst/lib/libmbedtls.a $$inst/lib/libmbedx509.a $$inst/lib/libmbedcrypto.a \
	    || echo "bench: no mbedTLS 4.0 build; its section is not run"
	python3 bench/run.py $(BENCH_ARGS)

coverage: deps
	@rm -rf build-cov
	@$(MAKE) --no-print-directory B=build-cov CC=gcc CFLAGS="-O0 -g --coverage" all build-cov/unit build-cov/integration build-cov/lwip_test
	@B=build-cov sh tests/run.sh
	@gcovr --root . --filter 'utmstack\.h' --filter 'ports/' --gcov-executable gcov \
	    --exclude-unreachable-branches --print-summary --txt build-cov/coverage.txt build-cov >/dev/null
	@gcovr --root . --filter 'utmstack\.h' --filter 'ports/' --exclude-unreachable-branches \
	    --print-summary --html-details build-cov/coverage.html build-cov | tail -3

demo: deps-demo
	@$(MAKE) --no-print-directory $(B)/utmstack $(B)/quickstart
	@B=$(B) sh scripts/demo.sh

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^\#define UTMSTACK_VERSION_STRING "\(.*\)"/\1/p' utmstack.h)
INSTALLED := include/utmstack.h include/utmstack_posix.h lib/pkgconfig/utmstack.pc \
	lib/cmake/utmstack/utmstack-config.cmake lib/cmake/utmstack/utmstack-deps.cmake \
	lib/cmake/utmstack/utmstack-config-version.cmake bin/utmstack share/man/man1/utmstack.1 \
	share/bash-completion/completions/utmstack share/zsh/site-functions/_utmstack

# the tool alone: needs only a C compiler, libmbedtls-dev and libjsmn-dev
utmstack: deps-demo
	@$(MAKE) --no-print-directory $(B)/utmstack

install: $(B)/utmstack
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/utmstack \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(B)/utmstack $(DESTDIR)$(PREFIX)/bin/utmstack
	install -m 644 docs/utmstack.1 $(DESTDIR)$(PREFIX)/share/man/man1/utmstack.1
	install -m 644 completions/utmstack.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/utmstack
	install -m 644 completions/_utmstack $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_utmstack
	install -m 644 utmstack.h ports/utmstack_posix.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' utmstack.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/utmstack.pc
	install -m 644 cmake/utmstack-config.cmake cmake/utmstack-deps.cmake $(DESTDIR)$(PREFIX)/lib/cmake/utmstack/
	sed -e 's|@VERSION@|$(VERSION)|' cmake/utmstack-config-version.cmake.in \
	    > $(DESTDIR)$(PREFIX)/lib/cmake/utmstack/utmstack-config-version.cmake

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)$(PREFIX)/%)
	-rmdir $(DESTDIR)$(PREFIX)/lib/cmake/utmstack 2>/dev/null

clean:
	rm -rf $(B) build-asan build-cov build-fuzz
