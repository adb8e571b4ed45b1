/// `--check-config`: what the HTTP mode depends on, checked one by one, as
/// `nginx -t` checks nginx's: each check a line on stdout, each problem a
/// line on stderr; the exit status is the first problem's, or 0.
func runCheckConfig(
    _ server: ServerInvocation, problems: [ThumbnailError], noRoot: ThumbnailError?, state: ProcessState, io: ProcessIO
) -> Int32 {
    var problems = problems
    var lines: [String] = []
    func check(_ name: String, _ body: () throws(ThumbnailError) -> String) {
        do throws(ThumbnailError) {
            lines.append("\(name): ok (\(try body()))")
        } catch {
            lines.append("\(name): refused: \(error)")
            problems.append(error)
        }
    }
    check("storage") { () throws(ThumbnailError) in
        if let noRoot { throw noRoot }
        return try state.engine(server.sources, io: io).storage.checkReachable()
    }
    check("log") { () throws(ThumbnailError) in try checkLogFile(server.logFile) }
    let access = server.access
    check("sizes") { () throws(ThumbnailError) in
        try access.checkSizes()
        return access.allowedSizes.map { "\($0.count) allowed" } ?? "any"
    }
    if let keyFile = access.keyFile {
        check("key-file") { () throws(ThumbnailError) in
            let count = try readKeys(keyFile).count
            return "\(count) key\(count == 1 ? "" : "s")"
        }
    }
    if let tokenFile = access.originTokenFile {
        check("origin-token-file") { () throws(ThumbnailError) in
            _ = try readOriginToken(tokenFile)
            return "a token, in \(access.originTokenHeader)"
        }
    }
    check("ImageMagick") { () throws(ThumbnailError) in
        let limits = state.magick.effectiveLimits
        let needed = server.sources.limits
        guard limits.area >= needed.maxPixels else {
            throw ThumbnailError(
                .misconfigured, "ImageMagick's policy",
                "caps the pixel cache at \(limits.area) pixels, under --max-pixels \(needed.maxPixels)")
        }
        guard limits.width >= server.access.grammar.maxSide, limits.height >= server.access.grammar.maxSide else {
            throw ThumbnailError(
                .misconfigured, "ImageMagick's policy",
                "caps a side at \(min(limits.width, limits.height)) pixels, under --max-side \(server.access.grammar.maxSide)")
        }
        return "area \(limits.area / 1_000_000) MP, memory \(limits.memory >> 20) MiB, map \(limits.map >> 20) MiB"
    }
    for format in OutputFormat.allCases {
        check("encoder \(format)") { () throws(ThumbnailError) in
            do throws(ThumbnailError) {
                try Renderer.checkEncoder(format)
            } catch {
                throw ThumbnailError(.encoderMissing, format.rawValue, "cannot be written: \(error.reason)")
            }
            return "writes"
        }
    }
    _ = try? io.writeOutput(Array(lines.map { $0 + "\n" }.joined().utf8))
    for problem in problems { io.writeError("thumbnail: \(problem)\n") }
    return problems.first?.exitStatus ?? 0
}
