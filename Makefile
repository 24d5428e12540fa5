# c10k: build, test, install. `make` builds the release library and the C
# examples; `make test` runs every suite; see README.md.

CARGO ?= cargo
CC ?= cc
CXX ?= c++
PREFIX ?= /usr/local

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
RELEASE := target/release
DEBUG := target/debug
CSTD := -std=c99 -Wall -Wextra -Wpedantic -Werror

EXAMPLES := $(patsubst examples-c/%.c,target/examples-c/%,$(wildcard examples-c/*.c))
C_TESTS := $(patsubst tests/c/%.c,%,$(wildcard tests/c/test_*.c))
ASAN_TESTS := $(C_TESTS:%=target/c-tests/asan/%)
PLAIN_TESTS := $(C_TESTS:%=target/c-tests/plain/%)
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite

# Commands the tests need, as command:debian-package; installed when missing.
TEST_TOOLS := valgrind:valgrind g++:g++ nm:binutils readelf:binutils haproxy:haproxy nginx:nginx
# Files the tests need, as path:debian-package (nginx's stream module for
# the PROXY protocol tests).
TEST_FILES := /usr/lib/nginx/modules/ngx_stream_module.so:libnginx-mod-stream

.PHONY: all lib examples header test test-rust test-rust-poll test-header test-c test-examples test-ws test-python test-lisp test-c-asan \
        test-c-valgrind tools demo install bench clean FORCE

all: lib examples

lib: $(RELEASE)/libc10k.so

examples: $(EXAMPLES)

# Cargo tracks the Rust sources, so ask it every time. The library's soname
# (libc10k.so.0.N, from build.rs) gets a symlink so that programs linked
# here find it through their rpath.
soname_link = ln -sf libc10k.so $(1)/$$(readelf -d $(1)/libc10k.so | sed -n 's/.*soname: \[\(.*\)\]/\1/p')

$(RELEASE)/libc10k.so: FORCE
	$(CARGO) build --release
	$(call soname_link,$(RELEASE))

$(DEBUG)/libc10k.so: FORCE
	$(CARGO) build
	$(call soname_link,$(DEBUG))

# Examples link the release library; the rpath finds it from the tree.
target/examples-c/%: examples-c/%.c include/c10k.h $(RELEASE)/libc10k.so
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O2 -g -pthread -Iinclude $< -o $@ -L$(RELEASE) -lc10k -Wl,-rpath,'$$ORIGIN/../release'

header:
	C10K_BLESS=1 $(CARGO) test --test header

## Tests. Other suites (Python, Lisp) add themselves to this list.
test: test-rust test-rust-poll test-header test-c test-examples test-ws test-python test-lisp

test-rust:
	$(CARGO) fmt --check
	$(CARGO) test

# The same suite on polling's portable poll(2) backend (STYLE.md), in a
# target directory of its own so the two builds do not invalidate each other.
test-rust-poll:
	RUSTFLAGS="--cfg polling_test_poll_backend" CARGO_TARGET_DIR=target/poll-backend $(CARGO) test --lib --tests

# Staleness, documentation and exported symbols (tests/header.rs); then the
# header must compile on its own as strict C99 and as C++, and the README's
# C example must still compile against it.
test-header: tools
	$(CARGO) test --test header
	printf '#include "c10k.h"\n' | $(CC) -std=c99 -Wall -Wextra -pedantic -Werror -Iinclude -x c -fsyntax-only -
	printf '#include "c10k.h"\n' | $(CXX) -std=c++11 -Wall -Wextra -Werror -Iinclude -x c++ -fsyntax-only -
	awk '/^```c$$/{f=1;next} /^```$$/{f=0} f' README.md | $(CC) $(CSTD) -Iinclude -x c -fsyntax-only -

test-c: test-c-asan test-c-valgrind

# The Python binding: a venv under target/, pip install, pytest.
test-python:
	bash bindings/python/test.sh

# The Common Lisp binding: SBCL and Debian's CFFI, fiveam.
test-lisp: lib
	bash bindings/lisp/test.sh

# The C examples as a user runs them: processes on 127.0.0.1, real clients
# (HAProxy in front of hello_http among them).
test-examples: tools examples
	python3 -m unittest discover -s tests/examples -v

# The WebSocket examples against clients written by others (websockets,
# wsproto) and raw sockets; installs those clients into the test venv.
test-ws: examples
	bash tests/ws/test.sh

# C tests link the debug library, whose assertions are on.
CTEST_LINK = -Iinclude -pthread $< -o $@ -L$(DEBUG) -lc10k -Wl,-rpath,'$$ORIGIN/../../debug'

target/c-tests/asan/%: tests/c/%.c tests/c/*.h include/c10k.h $(DEBUG)/libc10k.so
	@mkdir -p $(@D)
	$(CC) $(CSTD) -g -fsanitize=address,undefined -fno-sanitize-recover=all $(CTEST_LINK)

target/c-tests/plain/%: tests/c/%.c tests/c/*.h include/c10k.h $(DEBUG)/libc10k.so
	@mkdir -p $(@D)
	$(CC) $(CSTD) -g $(CTEST_LINK)

test-c-asan: $(ASAN_TESTS)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

test-c-valgrind: tools $(PLAIN_TESTS)
	@set -e; for t in $(PLAIN_TESTS); do echo "== valgrind $$t"; $(VALGRIND) $$t; done

# Installs, with apt-get, the commands the tests need that are missing.
tools:
	@missing=""; PATH="$$PATH:/usr/sbin"; for t in $(TEST_TOOLS); do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; \
	done; \
	for f in $(TEST_FILES); do [ -e $${f%%:*} ] || missing="$$missing $${f#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing:$$missing"; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq $$missing; \
	fi

## Running.
demo: examples
	@if [ -f examples-c/hello_http.c ]; then prog=hello_http; else prog=echo; fi; \
	echo "target/examples-c/$$prog 127.0.0.1:8080 (Ctrl-C stops it)"; \
	exec target/examples-c/$$prog 127.0.0.1:8080

bench: all
	@if [ -x bench/run ]; then bench/run; else echo "bench/run is not there yet"; fi

## Installing: libc10k.so.VERSION with its soname and dev symlinks, the
## static library, the header and a pkg-config file.
install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(RELEASE)/libc10k.so $(DESTDIR)$(PREFIX)/lib/libc10k.so.$(VERSION)
	soname=$$(readelf -d $(RELEASE)/libc10k.so | sed -n 's/.*soname: \[\(.*\)\]/\1/p'); \
	ln -sf libc10k.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$$soname; \
	ln -sf $$soname $(DESTDIR)$(PREFIX)/lib/libc10k.so
	install -m 644 $(RELEASE)/libc10k.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/c10k.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' c10k.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/c10k.pc

clean:
	$(CARGO) clean

## Reliability (docs/RELIABILITY.md). Neither runs as part of `make test`.
# Fuzzing needs cargo-fuzz and a nightly toolchain. Each target runs for
# FUZZ_RUNS executions on a scratch copy of its committed seed corpus, so
# what libFuzzer discovers never dirties fuzz/corpus/.
FUZZ_RUNS ?= 200000
FUZZ_TARGETS := http_request_split response_head ws_frames proxy_header

.PHONY: fuzz soak
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf target/fuzz-corpus/$$t; mkdir -p target/fuzz-corpus/$$t; \
	  cp fuzz/corpus/$$t/* target/fuzz-corpus/$$t/; \
	  echo "== fuzz $$t ($(FUZZ_RUNS) runs)"; \
	  rc=0; (cd fuzz && $(CARGO) +nightly fuzz run $$t ../target/fuzz-corpus/$$t -- \
	     -runs=$(FUZZ_RUNS) -max_len=8192 -timeout=10 -print_final_stats=1) \
	     > target/fuzz-$$t.log 2>&1 || rc=$$?; \
	  grep -E 'stat::number_of_executed_units|Done [0-9]|ERROR|panicked|SUMMARY|artifact' target/fuzz-$$t.log || true; \
	  [ $$rc -eq 0 ] || { echo "fuzz $$t failed: see target/fuzz-$$t.log"; exit $$rc; }; \
	done

# SOAK_SECONDS (default 600) of mixed load against hello_http; see soak/run.
soak: examples
	soak/run
