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
        // Headers only: libcurl itself is loaded at run time (see its shim.h).
        .systemLibrary(name: "CCurl"),
        .target(
            name: "ThumbnailCore",
            dependencies: ["CMagickWand", "CCurl"]
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
