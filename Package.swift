// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "thumbnail",
    products: [
        .executable(name: "thumbnail", targets: ["thumbnail"])
    ],
    dependencies: [
        // HMAC-SHA256 for URL signatures and SHA-256 for the origin token.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2")
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
        // Headers only: libcurl itself is loaded at run time (see its shim.h).
        .systemLibrary(name: "CCurl"),
        .target(
            name: "ThumbnailCore",
            dependencies: ["CMagickWand", "CWebP", "CCurl", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .executableTarget(
            name: "thumbnail",
            dependencies: ["ThumbnailCore"]
        ),
        .testTarget(
            name: "ThumbnailCoreTests",
            dependencies: ["ThumbnailCore"]
        ),
    ]
)
