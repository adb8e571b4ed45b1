# thumbnail: build, test, demo and install on Debian.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SWIFT ?= swift
# The release build has its own build directory: `swift test` holds a lock on
# .build while it runs, and the install test builds and installs this one.
RELEASE_FLAGS = -c release --static-swift-stdlib --scratch-path .build-release
RELEASE_BIN = .build-release/release/thumbnail
SOURCES = Package.swift $(shell find Sources -type f)

# Debian packages, installed by `deps` only when missing.
# libcurl4-openssl-dev: the headers of the CCurl module (--batch --base loads libcurl.so.4 at run time).
BUILD_PACKAGES = libmagickwand-dev libwebp-dev libspng-dev libtiff-dev libssl-dev pkg-config libcurl4-openssl-dev
TEST_PACKAGES = imagemagick libjpeg-turbo-progs libgs-common time python3 util-linux bsdutils coreutils mandoc bash-completion zsh fish \
	xinetd nginx-light curl openssl
BENCH_PACKAGES = imagemagick libgs-common time python3 python3-pil libvips-tools libjpeg-turbo-progs \
	webp hyperfine gcc xinetd curl wrk
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build deps test-deps bench-deps test bench bench-inetd bench-batch demo install uninstall clean

all: build

# Installs each listed package that dpkg does not report as installed.
define install_missing
	@missing=""; for package in $(1); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_PACKAGES))

test-deps: deps
	$(call install_missing,$(TEST_PACKAGES))

build: $(RELEASE_BIN)

bench-deps: deps
	$(call install_missing,$(BENCH_PACKAGES))

# Runs swift only when a source is newer, so `sudo make install` after
# `make` needs no Swift toolchain on root's PATH.
$(RELEASE_BIN): $(SOURCES) | deps
	$(SWIFT) build $(RELEASE_FLAGS)
	@touch $@

test: test-deps $(RELEASE_BIN)
	$(SWIFT) build
	$(SWIFT) test

# Medians and ratios against the baselines (bench/README.md); BENCH_ARGS passes
# options to bench/bench.py, e.g. BENCH_ARGS="--runs 5 --class jpeg-1920x1080.jpg".
# Then the inetd mode and the batch mode, over the wallpapers and over a
# generated corpus with a PNG in four files.
bench: bench-deps $(RELEASE_BIN)
	bench/run.sh $(RELEASE_BIN) $(BENCH_ARGS)
	bench/inetd.sh $(RELEASE_BIN)
	bench/batch.sh $(RELEASE_BIN)
	CORPUS=bench/.corpus/mixed bench/batch.sh $(RELEASE_BIN)

demo: build
	@mkdir -p demo
	@bin=$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/thumbnail; \
	$$bin --version; \
	$$bin -r samples --explain /thumbnail/200x200/webp/sample.jpg; \
	$$bin -r samples -o demo/sample-200.webp /thumbnail/200x200/webp/sample.jpg; \
	$$bin -r samples -o demo/sample-100x100-crop.jpg -s 100x100 --crop sample.jpg; \
	ls -l demo

# The installed files; `uninstall` removes exactly these.
INSTALLED = $(DESTDIR)$(BINDIR)/thumbnail \
	$(DESTDIR)$(MANDIR)/man1/thumbnail.1 \
	$(DESTDIR)$(BASHCOMPDIR)/thumbnail \
	$(DESTDIR)$(ZSHCOMPDIR)/_thumbnail \
	$(DESTDIR)$(FISHCOMPDIR)/thumbnail.fish

install: $(RELEASE_BIN)
	install -Dm755 $(RELEASE_BIN) $(DESTDIR)$(BINDIR)/thumbnail
	install -Dm644 man/thumbnail.1 $(DESTDIR)$(MANDIR)/man1/thumbnail.1
	install -Dm644 completions/thumbnail.bash $(DESTDIR)$(BASHCOMPDIR)/thumbnail
	install -Dm644 completions/_thumbnail $(DESTDIR)$(ZSHCOMPDIR)/_thumbnail
	install -Dm644 completions/thumbnail.fish $(DESTDIR)$(FISHCOMPDIR)/thumbnail.fish

uninstall:
	rm -f $(INSTALLED)

# Requests per second through xinetd, with and without keep-alive.
bench-inetd: bench-deps $(RELEASE_BIN)
	bench/inetd.sh $(RELEASE_BIN)

# Batch throughput against vipsthumbnail over a generated corpus (bench/batch.sh says how).
bench-batch: bench-deps $(RELEASE_BIN)
	bench/batch.sh $(RELEASE_BIN)
	CORPUS=bench/.corpus/mixed bench/batch.sh $(RELEASE_BIN)

clean:
	rm -rf .build .build-release demo
