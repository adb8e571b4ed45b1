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
# libpng-dev: PNG sources decoded row by row; zlib1g-dev: a large one's data inflated beside it.
# libgif-dev: GIF sources' first frame decoded row by row; libjpeg62-turbo-dev: JPEG sources' rows.
# libssl-dev: libcrypto's headers; signatures load libcrypto.so.3 (libssl3) at run time.
BUILD_PACKAGES = libmagickwand-dev libwebp-dev libpng-dev libgif-dev libjpeg62-turbo-dev zlib1g-dev libtiff-dev libssl-dev pkg-config libcurl4-openssl-dev libheif-dev
# libheif-examples: heif-enc makes the HEIC and AVIF sources of the tests (thumbnail items
# included); heif-convert and heif-info read AVIF alpha back (ImageMagick 6.9.11 drops it).
# libavif-bin: avifenc makes the 10-bit AVIF sources, which heif-enc cannot.
# chromium: headless, the browser of the Django package's page test (layout shift, the candidates it picks).
# python3-yaml: the Kubernetes manifests are parsed as the API server would.
# python3-pil: the Django package's placeholders in the venv of Debian's python3-django.
# haproxy, wrk: replicas behind a load balancer, under load (ScaleOutTests).
TEST_PACKAGES = imagemagick libjpeg-turbo-progs libgs-common time python3 util-linux bsdutils coreutils mandoc bash-completion zsh fish python3-django python3-pil \
	xinetd nginx-light curl openssl lintian man-db systemd goaccess libheif-examples libavif-bin python3-venv strace \
	chromium prometheus python3-yaml haproxy wrk
# dpkg-dev: dpkg-shlibdeps and dpkg-gencontrol; binutils: strip.
DEB_PACKAGES = dpkg-dev binutils
# mmdebstrap makes the image's root file system from Debian's packages; podman
# builds and runs the image, with runc (crun is podman's default), and plays
# deploy/kubernetes, whose pods need catatonit (a recommendation of podman's).
IMAGE_PACKAGES = mmdebstrap podman runc catatonit
BENCH_PACKAGES = imagemagick libgs-common time python3 python3-pil python3-venv libvips-tools libjpeg-turbo-progs libheif-examples \
	webp hyperfine gcc xinetd curl wrk nginx-light openssl valgrind binutils systemd
# `make quality`: scikit-image's SSIM and a Pillow that writes AVIF, from PyPI, in a venv.
BENCH_VENV = .build-bench/venv
# pyvips: libvips (Debian's libvips42) warm in one process, for bench/warm.py.
BENCH_PYTHON_PACKAGES = scikit-image==0.26.0 pillow==13.0.0 numpy==2.4.6 scipy==1.17.1 pyvips==3.2.0
WARM = bench/corpus.sh bench/.corpus >/dev/null && \
	$(BENCH_VENV)/bin/python bench/warm.py --thumbnail $(RELEASE_BIN) $(WARM_ARGS)
QUALITY = bench/corpus.sh bench/.corpus >/dev/null && \
	$(BENCH_VENV)/bin/python bench/quality.py --thumbnail $(RELEASE_BIN) --corpus bench/.corpus/images
# `make bench-serve`: thumbor and a gunicorn + Django + Pillow view, from PyPI, in a venv.
SERVE_VENV = .build-bench/serve-venv
SERVE_PYTHON_PACKAGES = thumbor==7.8.0 gunicorn==27.0.1 django==5.2.19 pillow==12.3.0
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build docs deps check-deps test-deps deb-deps deb image-deps image django-venvs bench-deps check test bench bench-inetd bench-serve bench-container bench-batch bench-smartcrop bench-storage bench-warm function-order quality demo install uninstall clean

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

test-deps: deps deb-deps image-deps
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

image-deps:
	$(call install_missing,$(IMAGE_PACKAGES))

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

# The listening server against its own keep-alive, --inetd, thumbor and a Django view, and a
# burst's memory against the bound the man page states (bench/README.md).
bench-serve: bench-deps $(RELEASE_BIN) $(SERVE_VENV)/.installed
	bench/corpus.sh bench/.corpus >/dev/null
	bench/serve.py --thumbnail $(RELEASE_BIN) --corpus bench/.corpus --venv $(SERVE_VENV) $(SERVE_ARGS)

# The image's size, its start to the first 200 and its memory under
# bench-serve's work (bench/container.py).
bench-container: bench-deps image
	bench/corpus.sh bench/.corpus >/dev/null
	bench/container.py --image $(IMAGE)

$(SERVE_VENV)/.installed: | bench-deps
	/usr/bin/python3 -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install -q $(SERVE_PYTHON_PACKAGES)
	@touch $@

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
	rm -rf .build .build-release .build-deb .build-image .build-bench .build-venv .build-django demo thumbnail_*.deb

# The Debian package, built with dpkg's own tools from packaging/debian
# (control, changelog, copyright, and postinst and postrm, which make and
# on purge remove the user thumbnail and /var/log/thumbnail). The version
# is VERSION's; `Depends` is what dpkg-shlibdeps finds the binary linked
# with. The examples name the binary where `make install` puts it; this
# package has it in /usr/bin. The systemd units go in /lib/systemd/system,
# disabled: nothing enables or starts them.
# lintian reports no errors and no warnings. What `lintian -I --pedantic`
# adds is kept, for these reasons:
#   I hardening-no-bindnow: binding every ImageMagick symbol at start would
#     slow each process, and --inetd starts one per connection.
#   I hardening-no-fortify-functions: the binary is Swift, not C built with
#     _FORTIFY_SOURCE.
#   I spelling-error-in-binary: cut-off words among the strings of the Swift
#     runtime and ICU data linked in, not thumbnail's own text.
#   I systemd-service-file-missing-documentation-key: systemd-analyze verify
#     looks a man: page up, and the unit must verify where the page is not
#     installed (the tests verify the examples before any install).
#   P odd-mark-in-description: the comma in the example path
#     /thumbnail/200x200,crop/webp/... is the grammar's.
VERSION := $(shell cat VERSION)
STRIP = strip --strip-unneeded --remove-section=.comment --remove-section=.note
DEB = thumbnail_$(VERSION)_$(shell dpkg --print-architecture).deb
DEB_ROOT = .build-deb/root
DEB_DOC = $(DEB_ROOT)/usr/share/doc/thumbnail

# The package's name, whether it was built now or was up to date already.
deb: $(DEB)
	@echo $(DEB)

$(DEB): Makefile $(RELEASE_BIN) VERSION man/thumbnail.1 $(wildcard completions/* examples/* examples/*/* packaging/debian/*) | deb-deps
	@test "$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)" = "$(VERSION)" || \
	  { echo "packaging/debian/changelog: the top entry is not version $(VERSION)" >&2; exit 1; }
	rm -rf .build-deb
	install -d -m755 $(DEB_ROOT)/DEBIAN
	install -m755 packaging/debian/postinst packaging/debian/postrm $(DEB_ROOT)/DEBIAN/
	install -D -m755 $(RELEASE_BIN) $(DEB_ROOT)/usr/bin/thumbnail
	$(STRIP) $(DEB_ROOT)/usr/bin/thumbnail
	install -D -m644 man/thumbnail.1 $(DEB_ROOT)/usr/share/man/man1/thumbnail.1
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/thumbnail.1
	install -D -m644 completions/thumbnail.bash $(DEB_ROOT)/usr/share/bash-completion/completions/thumbnail
	install -D -m644 completions/_thumbnail $(DEB_ROOT)/usr/share/zsh/vendor-completions/_thumbnail
	install -D -m644 completions/thumbnail.fish $(DEB_ROOT)/usr/share/fish/vendor_completions.d/thumbnail.fish
	cd examples && find . -type f -exec install -D -m644 {} ../$(DEB_DOC)/examples/{} \;
	install -D -m644 -t $(DEB_ROOT)/lib/systemd/system examples/systemd/thumbnail.socket examples/systemd/thumbnail@.service
	sed -i 's#/usr/local/bin/thumbnail#/usr/bin/thumbnail#g' \
	  $$(grep -rl /usr/local/bin/thumbnail $(DEB_DOC)/examples $(DEB_ROOT)/lib/systemd/system)
	install -m644 packaging/debian/copyright $(DEB_DOC)/copyright
	gzip -9n < packaging/debian/changelog > $(DEB_DOC)/changelog.gz
	chmod 644 $(DEB_DOC)/changelog.gz
	cd packaging && dpkg-shlibdeps -T../.build-deb/substvars -e../$(DEB_ROOT)/usr/bin/thumbnail && \
	  dpkg-gencontrol -T../.build-deb/substvars -f../.build-deb/files -P../$(DEB_ROOT)
	cd $(DEB_ROOT) && find usr lib -type f | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums
	chmod 644 $(DEB_ROOT)/DEBIAN/md5sums
	dpkg-deb --root-owner-group --build $(DEB_ROOT) $@

# The Django package (python/thumbnail-django): its wheel, built by PyPI's
# `build`, and venvs of Debian's python3 with the wheel installed: Django 4.2
# LTS, 5.2 (with gunicorn, which serves the browser test's page, and
# django-storages, whose S3 storage is tested on moto's) and Debian's own
# python3-django. Made by its tests (DjangoPackageTests) and the bench; a
# venv is made again when its packages here change. Pillow (10.4 and 12.3 from
# PyPI, 9.4 from Debian) draws the placeholders.
DJANGO_DIR = .build-django
PYTHON_PACKAGE = python/thumbnail-django
DJANGO_BUILD_PACKAGES = build==1.6.1 setuptools==84.2.1
DJANGO_VENVS = $(DJANGO_DIR)/django-4.2 $(DJANGO_DIR)/django-5.2 $(DJANGO_DIR)/debian
DJANGO_django-4.2_PACKAGES = Django==4.2.30 pillow==10.4.0
DJANGO_django-5.2_PACKAGES = Django==5.2.19 pillow==12.3.0 gunicorn==27.0.1 django-storages==1.14.6 $(filter boto3==%,$(MOTO_PACKAGES))
DJANGO_WHEEL = $(DJANGO_DIR)/dist/thumbnail_django-$(VERSION)-py3-none-any.whl

django-venvs: $(DJANGO_VENVS:%=%/.installed)

$(DJANGO_DIR)/build/.installed: Makefile
	rm -rf $(DJANGO_DIR)/build
	/usr/bin/python3 -m venv $(DJANGO_DIR)/build
	$(DJANGO_DIR)/build/bin/pip install -q --disable-pip-version-check $(DJANGO_BUILD_PACKAGES)
	@touch $@

$(DJANGO_WHEEL): VERSION $(shell find $(PYTHON_PACKAGE) -type f -not -path '*.egg-info/*') | $(DJANGO_DIR)/build/.installed
	rm -rf $(DJANGO_DIR)/dist
	$(DJANGO_DIR)/build/bin/python -m build --no-isolation --outdir $(DJANGO_DIR)/dist $(PYTHON_PACKAGE) >/dev/null

# Each venv: made again when its packages changed, then the wheel put in.
$(DJANGO_DIR)/%/.installed: $(DJANGO_WHEEL) Makefile
	@packages='$(DJANGO_$*_PACKAGES)'; \
	if ! [ -f $(DJANGO_DIR)/$*/.packages ] || [ "$$(cat $(DJANGO_DIR)/$*/.packages)" != "$$packages" ]; then \
	  rm -rf $(DJANGO_DIR)/$* && \
	  /usr/bin/python3 -m venv $(if $(DJANGO_$*_PACKAGES),,--system-site-packages) $(DJANGO_DIR)/$* && \
	  { [ -z "$$packages" ] || $(DJANGO_DIR)/$*/bin/pip install -q --disable-pip-version-check $$packages; } && \
	  echo "$$packages" > $(DJANGO_DIR)/$*/.packages; \
	fi
	$(DJANGO_DIR)/$*/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps $(DJANGO_WHEEL)
	@touch $@

# The OCI image, from Debian's packages only: mmdebstrap installs the
# libraries the binary is linked with (dpkg-shlibdeps) and those the
# package's control names (the ones it loads when a run needs them), with
# ca-certificates; packaging/image/rootfs.py then keeps those libraries, the
# certificates and the copyright files, and removes the rest (shell, dpkg,
# apt, documentation). The binary, stripped, its manual, the list of the one
# path its health check fetches (/healthz) and a passwd naming the user it
# runs as (IMAGE_UID, not root) are added, and podman builds
# packaging/image/Containerfile on the result, in Docker's format since the
# OCI format has no HEALTHCHECK. Rebuilt only when the binary or the recipe
# changes, or when podman lost the image; make image takes about a minute.
IMAGE = thumbnail:$(VERSION)
IMAGE_DIR = .build-image
IMAGE_STAGE = $(IMAGE_DIR)/stage
IMAGE_UID = 65532
IMAGE_SUITE := $(shell . /etc/os-release && echo $$VERSION_CODENAME)
PODMAN = CONTAINERS_CONF=$(CURDIR)/packaging/image/containers.conf podman --runtime runc

image: $(IMAGE_DIR)/image-id
	@$(PODMAN) image exists $(IMAGE) || { rm -f $<; $(MAKE) --no-print-directory $<; }

$(IMAGE_DIR)/rootfs.tar: Makefile $(RELEASE_BIN) man/thumbnail.1 packaging/debian/control packaging/debian/copyright \
		packaging/image/rootfs.py | image-deps deb-deps
	rm -rf $(IMAGE_DIR)
	install -D -m755 $(RELEASE_BIN) $(IMAGE_STAGE)/usr/bin/thumbnail
	$(STRIP) $(IMAGE_STAGE)/usr/bin/thumbnail
	install -D -m644 man/thumbnail.1 $(IMAGE_STAGE)/usr/share/man/man1/thumbnail.1
	gzip -9n $(IMAGE_STAGE)/usr/share/man/man1/thumbnail.1
	install -D -m644 packaging/debian/copyright $(IMAGE_STAGE)/usr/share/doc/thumbnail/copyright
	printf '/healthz\n' | install -D -m644 /dev/stdin $(IMAGE_STAGE)/usr/share/thumbnail/healthz.list
	printf 'root:x:0:0:root:/root:/nonexistent\nthumbnail:x:$(IMAGE_UID):$(IMAGE_UID):thumbnail:/nonexistent:/nonexistent\n' \
	  | install -D -m644 /dev/stdin $(IMAGE_STAGE)/etc/passwd
	printf 'root:x:0:\nthumbnail:x:$(IMAGE_UID):\n' | install -D -m644 /dev/stdin $(IMAGE_STAGE)/etc/group
	cd packaging && dpkg-shlibdeps -O -e../$(IMAGE_STAGE)/usr/bin/thumbnail > ../$(IMAGE_DIR)/shlibs
	{ sed -n 's/^shlibs:Depends=//p' $(IMAGE_DIR)/shlibs; sed -n 's/^\(Depends\|Recommends\): //p' packaging/debian/control; } \
	  | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g; /^\$$/d; /^$$/d' | sort -u > $(IMAGE_DIR)/packages
	mmdebstrap --quiet --variant=essential --dpkgopt=force-unsafe-io --include="$$(paste -sd, $(IMAGE_DIR)/packages),ca-certificates" \
	  --customize-hook='$(CURDIR)/packaging/image/rootfs.py "$$1" $$(cat $(CURDIR)/$(IMAGE_DIR)/packages)' \
	  --customize-hook='sync-in $(IMAGE_STAGE) /' \
	  --skip=cleanup,output/dev,output/mknod --format=tar $(IMAGE_SUITE) $@.part
	mv $@.part $@

$(IMAGE_DIR)/image-id: $(IMAGE_DIR)/rootfs.tar packaging/image/Containerfile VERSION packaging/image/containers.conf
	$(PODMAN) build --network host --format docker --file packaging/image/Containerfile --tag $(IMAGE) \
	  --build-arg VERSION=$(VERSION) --build-arg UID=$(IMAGE_UID) \
	  --build-arg DESCRIPTION="$$(sed -n 's/^Description: //p' packaging/debian/control)" \
	  --build-arg LICENSE="$$(sed -n 's/^License: //p' packaging/debian/copyright | head -n 1)" \
	  --build-arg SOURCE="$$(git remote get-url origin 2>/dev/null)" \
	  --layers=false --iidfile $@.part $(IMAGE_DIR)
	$(PODMAN) image prune --force --filter label=org.opencontainers.image.title=thumbnail >/dev/null
	mv $@.part $@
