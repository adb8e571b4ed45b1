/// The libraries loaded at run time (dlopen, in CCurl, CHeif, CTiff and
/// CCrypto), by the features that need them alone, so that other runs do
/// not pay for loading them. A host without one lacks those features only.
enum OptionalLibrary: String {
    case curl = "libcurl.so.4"
    case heif = "libheif.so.1"
    case tiff = "libtiff.so.6"
    case crypto = "libcrypto.so.3"

    /// The Debian package that holds it.
    var debianPackage: String {
        switch self {
        case .curl: "libcurl4"
        case .heif: "libheif1"
        case .tiff: "libtiff6"
        case .crypto: "libssl3"
        }
    }

    /// What cannot work without it.
    var neededFor: String {
        switch self {
        case .curl: "s3:// and https:// roots and --batch --base"
        case .heif: "HEIC and AVIF"
        case .tiff: "TIFF sources"
        case .crypto: "URL signatures and the origin token"
        }
    }

    /// The one error for it, whichever feature found it missing: like a
    /// missing encoder (69; under --inetd 503, never kept), since the host
    /// lacks what the feature needs. `loaderMessage` is dlerror's: a file
    /// that is not there is "not installed"; one that is, but lacks a
    /// function, is too old or another build, and is named so.
    func missing(_ loaderMessage: String) -> ThumbnailError {
        let absent = loaderMessage.contains("cannot open shared object file")
        return ThumbnailError(
            .encoderMissing, rawValue,
            (absent ? "not installed" : "unusable: \(loaderMessage)") + " (Debian package \(debianPackage)); needed for \(neededFor)")
    }
}
