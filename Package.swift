// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "thumbnail",
    products: [
        .executable(name: "thumbnail", targets: ["thumbnail"])
    ],
    targets: [
        .systemLibrary(
            name: "CMagickWand",
            pkgConfig: "MagickWand",
            providers: [.apt(["libmagickwand-dev"])]
        ),
        // Still WebP sources decode through libwebp itself, scaled while decoding.
        .systemLibrary(
            name: "CWebP",
            pkgConfig: "libwebp",
            providers: [.apt(["libwebp-dev"])]
        ),
        // libheif's headers (Debian libheif-dev, in the multiarch include directory the
        // compiler searches); the library is loaded at run time, by HEIC and AVIF sources and
        // AVIF output alone (CHeif/heif.c).
        .target(name: "CHeif"),
        // JPEG sources decode row by row through libjpeg-turbo (Debian libjpeg62-turbo-dev),
        // averaged down as they come; CJpeg/jpeg.c catches libjpeg's errors.
        .target(name: "CJpeg", linkerSettings: [.linkedLibrary("jpeg")]),
        // PNG sources decode row by row through libpng (its setjmp kept in CPng/png.c), averaged down as they come.
        .target(name: "CPng", linkerSettings: [.linkedLibrary("png16")]),
        // GIF sources' first frame decodes row by row through giflib, averaged down as it comes.
        .systemLibrary(
            name: "CGif",
            providers: [.apt(["libgif-dev"])]
        ),
        // zlib: a large PNG's image data inflated on a thread of its own (PNGInflater.swift).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libtiff's headers; the library is loaded at run time, by TIFF sources alone (CTiff/tiff.c).
        .target(name: "CTiff"),
        // libcrypto's headers; the library is loaded at run time, by URL signatures and
        // the origin token alone (CCrypto/crypto.c).
        .target(name: "CCrypto"),
        // Headers only: libcurl itself is loaded at run time (see its shim.h).
        .systemLibrary(name: "CCurl"),
        // prctl, ppoll, signalfd and memfd_create, for the listening server.
        .target(name: "CProcess"),
        .target(
            name: "ThumbnailCore",
            dependencies: ["CMagickWand", "CWebP", "CJpeg", "CHeif", "CPng", "CGif", "CZlib", "CTiff", "CCurl", "CCrypto", "CProcess"]
        ),
        .executableTarget(
            name: "thumbnail",
            dependencies: ["ThumbnailCore"],
            // The release build's link order (see the Makefile's LINK_FLAGS).
            exclude: ["function-order.txt"]
        ),
        // The man page's generated parts and the shell completions, from the
        // tables in ThumbnailCore; `make docs` runs thumbnail-docs, which is not installed.
        .target(name: "Documentation", dependencies: ["ThumbnailCore"]),
        .executableTarget(name: "thumbnail-docs", dependencies: ["Documentation"]),
        // What both test targets share: fixtures, processes, in-process runs.
        .target(
            name: "TestSupport",
            dependencies: ["ThumbnailCore"],
            path: "Tests/TestSupport"
        ),
        // Fast, in this process (`make check`): grammar, options, access, HTTP replies through run(arguments, io).
        .testTarget(
            name: "ThumbnailCoreTests",
            dependencies: ["ThumbnailCore", "TestSupport", "Documentation"]
        ),
        // In this process too, but slow: each decoder against ImageMagick's whole decode on
        // sources that convert, heif-enc and avifenc make, and seeded mangled sources.
        .testTarget(
            name: "DecoderTests",
            dependencies: ["ThumbnailCore", "TestSupport"]
        ),
        // The built binary as a process, and the real programs around it: xinetd, nginx, curl, make.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ThumbnailCore", "TestSupport"]
        ),
    ]
)
