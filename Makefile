# thumbnail: build, test, demo and install on Debian.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SWIFT ?= swift
RELEASE_FLAGS = -c release --static-swift-stdlib

# Debian packages, installed by `deps` only when missing.
BUILD_PACKAGES = libmagickwand-dev pkg-config
TEST_PACKAGES = imagemagick libgs-common time python3 util-linux bsdutils coreutils
BENCH_PACKAGES = imagemagick libgs-common time python3 python3-pil libvips-tools libjpeg-turbo-progs \
  webp hyperfine gcc
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build deps test-deps bench-deps test bench demo clean

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

build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

bench-deps: deps
	$(call install_missing,$(BENCH_PACKAGES))

test: test-deps
	$(SWIFT) build
	$(SWIFT) test

# Medians and ratios against the baselines (bench/README.md); BENCH_ARGS passes
# options to bench/bench.py, e.g. BENCH_ARGS="--runs 5 --class jpeg-1920x1080.jpg".
bench: bench-deps build
	bench/run.sh "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/thumbnail" $(BENCH_ARGS)

demo: build
	@mkdir -p demo
	@bin=$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/thumbnail; \
	$$bin --version; \
	$$bin -r samples --explain /thumbnail/200x200/webp/sample.jpg; \
	$$bin -r samples -o demo/sample-200.webp /thumbnail/200x200/webp/sample.jpg; \
	$$bin -r samples -o demo/sample-100x100-crop.jpg -s 100x100 --crop sample.jpg; \
	ls -l demo

clean:
	rm -rf .build demo
