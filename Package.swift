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
        .target(
            name: "ThumbnailCore",
            dependencies: ["CMagickWand"]
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
