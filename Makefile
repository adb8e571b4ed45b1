# thumbnail: build, test, demo and install on Debian.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SWIFT ?= swift
RELEASE_FLAGS = -c release --static-swift-stdlib

# Debian packages, installed by `deps` only when missing.
BUILD_PACKAGES = libmagickwand-dev pkg-config
TEST_PACKAGES = imagemagick util-linux bsdutils coreutils openssl
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build deps test-deps test demo clean

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

test: test-deps
	$(SWIFT) build
	$(SWIFT) test

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
