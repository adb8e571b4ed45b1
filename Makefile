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
# No $ORIGIN run path: the Swift libraries are linked in, and Debian's
# policy (lintian) refuses a custom library search path.
# Linked by lld, each function in its own section and the ones typical runs
# execute side by side (Sources/thumbnail/function-order.txt, made by `make
# function-order`), with the relative relocations packed (RELR): a run maps
# 1.6 MiB less of the binary, since each page fault maps 64 KiB around it.
LINK_FLAGS = -Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld \
	-Xlinker -z -Xlinker pack-relative-relocs \
	-Xlinker --symbol-ordering-file=$(CURDIR)/Sources/thumbnail/function-order.txt -Xlinker --no-warn-symbol-ordering
RELEASE_FLAGS = -c release --static-swift-stdlib --disable-local-rpath --scratch-path .build-release $(LINK_FLAGS)
RELEASE_BIN = .build-release/release/thumbnail
SOURCES = Package.swift $(shell find Sources -type f)

# Debian packages, installed by `deps` only when missing.
# libcurl4-openssl-dev: the headers of the CCurl module (--batch --base loads libcurl.so.4 at run time).
# libheif-dev, libtiff-dev: headers only; HEIC and AVIF sources and AVIF output load libheif1
# (AV1 through libaom3 and libdav1d, HEVC through libde265, no plugin package) and TIFF
# sources libtiff6 at run time, so other runs do not pay for them.
# libspng-dev: PNG sources decoded row by row; zlib1g-dev: a large one's data inflated beside it.
# libgif-dev: GIF sources' first frame decoded row by row.
# libssl-dev: libcrypto's headers; signatures load libcrypto.so.3 (libssl3) at run time.
BUILD_PACKAGES = libmagickwand-dev libwebp-dev libspng-dev libgif-dev zlib1g-dev libtiff-dev libssl-dev pkg-config libcurl4-openssl-dev libheif-dev
# libheif-examples: heif-enc makes the HEIC and AVIF sources of the tests (thumbnail items
# included); heif-convert and heif-info read AVIF alpha back (ImageMagick 6.9.11 drops it).
# libavif-bin: avifenc makes the 10-bit AVIF sources, which heif-enc cannot.
TEST_PACKAGES = imagemagick libjpeg-turbo-progs libgs-common time python3 util-linux bsdutils coreutils mandoc bash-completion zsh fish python3-django \
	xinetd nginx-light curl openssl lintian man-db systemd goaccess libheif-examples libavif-bin python3-venv strace
# dpkg-dev: dpkg-shlibdeps and dpkg-gencontrol; binutils: strip.
DEB_PACKAGES = dpkg-dev binutils
BENCH_PACKAGES = imagemagick libgs-common time python3 python3-pil python3-venv libvips-tools libjpeg-turbo-progs libheif-examples \
	webp hyperfine gcc xinetd curl wrk nginx-light openssl valgrind binutils
# `make quality`: scikit-image's SSIM and a Pillow that writes AVIF, from PyPI, in a venv.
BENCH_VENV = .build-bench/venv
# pyvips: libvips (Debian's libvips42) warm in one process, for bench/warm.py.
BENCH_PYTHON_PACKAGES = scikit-image==0.26.0 pillow==13.0.0 numpy==2.4.6 scipy==1.17.1 pyvips==3.2.0
WARM = bench/corpus.sh bench/.corpus >/dev/null && \
	$(BENCH_VENV)/bin/python bench/warm.py --thumbnail $(RELEASE_BIN) $(WARM_ARGS)
QUALITY = bench/corpus.sh bench/.corpus >/dev/null && \
	$(BENCH_VENV)/bin/python bench/quality.py --thumbnail $(RELEASE_BIN) --corpus bench/.corpus/images
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build docs deps check-deps test-deps deb-deps deb bench-deps check test bench bench-inetd bench-batch bench-smartcrop bench-storage bench-warm function-order quality demo install uninstall clean

all: build

# The listed packages that dpkg does not report as installed.
missing = $(strip $(shell for package in $(1); do \
	dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || echo $$package; done))

# Installs each listed package that is missing.
define install_missing
	@missing="$(call missing,$(1))"; \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_PACKAGES))

# `make` and `make install` install nothing: they say what is missing.
check-deps:
	@missing="$(call missing,$(BUILD_PACKAGES))"; \
	if [ -n "$$missing" ]; then echo "missing Debian packages: $$missing (make deps installs them)" >&2; exit 1; fi

test-deps: deps deb-deps
	$(call install_missing,$(TEST_PACKAGES))
	$(MAKE) $(MOTO_SERVER)

# The S3 tests' store: moto's server and boto3 (which seeds it), pinned, in
# a venv of Debian's python3 under the build directories.
MOTO_VENV = .build-venv
MOTO_SERVER = $(MOTO_VENV)/bin/moto_server
MOTO_PACKAGES = moto[server]==5.2.5 boto3==1.44.8 botocore==1.44.8

$(MOTO_SERVER):
	rm -rf $(MOTO_VENV)
	/usr/bin/python3 -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install -q --disable-pip-version-check '$(word 1,$(MOTO_PACKAGES))' $(wordlist 2,9,$(MOTO_PACKAGES))

deb-deps:
	$(call install_missing,$(DEB_PACKAGES))

build: $(RELEASE_BIN)

# The man page's OPTIONS, EXIT STATUS and strings, README's exit statuses and
# the shell completions, written from the code's tables; the results are
# committed, and a test says when they are due.
docs:
	$(SWIFT) run thumbnail-docs

bench-deps: deps
	$(call install_missing,$(BENCH_PACKAGES))
	$(MAKE) $(MOTO_SERVER)

# Runs swift only when a source (or the Makefile, with RELEASE_FLAGS) is
# newer, so `sudo make install` after `make` needs no Swift toolchain on
# root's PATH.
$(RELEASE_BIN): $(SOURCES) Makefile | check-deps
	$(SWIFT) build $(RELEASE_FLAGS) --product thumbnail
	@touch $@

# The quick loop while changing the code: the in-process suites of
# Tests/ThumbnailCoreTests after a debug build. It installs nothing and
# starts no daemon; `make test` runs everything.
check: | check-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter ThumbnailCoreTests

test: test-deps $(RELEASE_BIN)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Medians and ratios against the baselines (bench/README.md); BENCH_ARGS passes
# options to bench/bench.py, e.g. BENCH_ARGS="--runs 5 --class jpeg-1920x1080.jpg".
# Then the inetd mode, the batch mode (over the wallpapers and over a generated
# corpus with a PNG in four files), smart crops and the output formats' bytes and SSIM.
bench: bench-deps $(RELEASE_BIN) $(BENCH_VENV)/.installed
	bench/run.sh $(RELEASE_BIN) $(BENCH_ARGS)
	bench/inetd.sh $(RELEASE_BIN)
	bench/batch.sh $(RELEASE_BIN)
	CORPUS=bench/.corpus/mixed bench/batch.sh $(RELEASE_BIN)
	$(MAKE) bench-smartcrop
	bench/storage.sh $(RELEASE_BIN)
	$(WARM)
	$(QUALITY)

$(BENCH_VENV)/.installed: | bench-deps
	/usr/bin/python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q $(BENCH_PYTHON_PACKAGES)
	@touch $@

# Warm, in one process, one thread: CPU per render against pyvips and Pillow at
# web sizes, with bytes and SSIM (bench/warm.py); WARM_ARGS="--sizes 512 --sources png" narrows it.
bench-warm: bench-deps $(RELEASE_BIN) $(BENCH_VENV)/.installed
	$(WARM)

# Bytes and SSIM of each lossy format at its default against vipsthumbnail and Pillow (bench/README.md).
quality: bench-deps $(RELEASE_BIN) $(BENCH_VENV)/.installed
	$(QUALITY)

demo: deps build
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

# Rendering from https:// (nginx) and s3:// (moto) roots against disk (bench/storage.sh says how).
bench-storage: bench-deps $(RELEASE_BIN)
	bench/storage.sh $(RELEASE_BIN)

# Batch throughput against vipsthumbnail over a generated corpus (bench/batch.sh says how).
bench-batch: bench-deps $(RELEASE_BIN)
	bench/batch.sh $(RELEASE_BIN)
	CORPUS=bench/.corpus/mixed bench/batch.sh $(RELEASE_BIN)

# smart's window against vipsthumbnail's attention crop, and its cost against a plain crop.
bench-smartcrop: bench-deps $(RELEASE_BIN)
	bench/corpus.sh bench/.corpus >/dev/null
	bench/smartcrop.py --thumbnail $(RELEASE_BIN) --corpus bench/.corpus/images --out bench/.out

# Lists again the functions the release build lays out together (bench/function-order.sh).
function-order: bench-deps $(RELEASE_BIN)
	bench/function-order.sh $(RELEASE_BIN)

# A variable's value, for the tests: `make -s print-RELEASE_BIN`.
print-%:
	@echo '$($*)'

clean:
	rm -rf .build .build-release .build-deb .build-bench .build-venv demo thumbnail_*.deb

# The Debian package, built with dpkg's own tools from packaging/debian
# (control, changelog, copyright). The version is VERSION's; `Depends` is
# what dpkg-shlibdeps finds the binary linked with. The examples name the
# binary where `make install` puts it; this package has it in /usr/bin.
# lintian reports no errors and no warnings. What `lintian -I --pedantic`
# adds is kept, for these reasons:
#   I hardening-no-bindnow: binding every ImageMagick symbol at start would
#     slow each process, and --inetd starts one per connection.
#   I hardening-no-fortify-functions: the binary is Swift, not C built with
#     _FORTIFY_SOURCE.
#   I spelling-error-in-binary: cut-off words among the strings of the Swift
#     runtime and ICU data linked in, not thumbnail's own text.
#   P odd-mark-in-description: the comma in the example path
#     /thumbnail/200x200,crop/webp/... is the grammar's.
VERSION := $(shell cat VERSION)
DEB = thumbnail_$(VERSION)_$(shell dpkg --print-architecture).deb
DEB_ROOT = .build-deb/root
DEB_DOC = $(DEB_ROOT)/usr/share/doc/thumbnail

deb: $(DEB)

$(DEB): Makefile $(RELEASE_BIN) VERSION man/thumbnail.1 $(wildcard completions/* examples/* examples/*/* packaging/debian/*) | deb-deps
	@test "$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)" = "$(VERSION)" || \
	  { echo "packaging/debian/changelog: the top entry is not version $(VERSION)" >&2; exit 1; }
	rm -rf .build-deb
	install -d -m755 $(DEB_ROOT)/DEBIAN
	install -D -m755 $(RELEASE_BIN) $(DEB_ROOT)/usr/bin/thumbnail
	strip --strip-unneeded --remove-section=.comment --remove-section=.note $(DEB_ROOT)/usr/bin/thumbnail
	install -D -m644 man/thumbnail.1 $(DEB_ROOT)/usr/share/man/man1/thumbnail.1
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/thumbnail.1
	install -D -m644 completions/thumbnail.bash $(DEB_ROOT)/usr/share/bash-completion/completions/thumbnail
	install -D -m644 completions/_thumbnail $(DEB_ROOT)/usr/share/zsh/vendor-completions/_thumbnail
	install -D -m644 completions/thumbnail.fish $(DEB_ROOT)/usr/share/fish/vendor_completions.d/thumbnail.fish
	cd examples && find . -type f -exec install -D -m644 {} ../$(DEB_DOC)/examples/{} \;
	sed -i 's#/usr/local/bin/thumbnail#/usr/bin/thumbnail#g' $$(grep -rl /usr/local/bin/thumbnail $(DEB_DOC)/examples)
	install -m644 packaging/debian/copyright $(DEB_DOC)/copyright
	gzip -9n < packaging/debian/changelog > $(DEB_DOC)/changelog.gz
	chmod 644 $(DEB_DOC)/changelog.gz
	cd packaging && dpkg-shlibdeps -T../.build-deb/substvars -e../$(DEB_ROOT)/usr/bin/thumbnail && \
	  dpkg-gencontrol -T../.build-deb/substvars -f../.build-deb/files -P../$(DEB_ROOT)
	cd $(DEB_ROOT) && find usr -type f | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums
	chmod 644 $(DEB_ROOT)/DEBIAN/md5sums
	dpkg-deb --root-owner-group --build $(DEB_ROOT) $@
