import Foundation
import Testing

import ThumbnailCore

/// The package's top directory (Package.swift, man, completions, Makefile).
package let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The built `thumbnail` binary: `$THUMBNAIL_BIN`, or the one the build put
/// beside this test bundle (whatever the configuration or scratch path).
package let thumbnailBinary: String = {
    if let path = ProcessInfo.processInfo.environment["THUMBNAIL_BIN"] { return path }
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return bundle.deletingLastPathComponent().appendingPathComponent("thumbnail").path
}()

package struct Outcome {
    package init(status: Int32, output: Data, error: String) {
        (self.status, self.output, self.error) = (status, output, error)
    }

    package var status: Int32
    package var output: Data
    package var error: String
}

/// Runs `executable` with `arguments`, killed after `seconds`; stdout and
/// stderr go through files so neither pipe can fill and stall it. Its
/// environment is this process's, or `environment` when given.
@discardableResult
package func runProcess(
    _ executable: String, _ arguments: [String], input: Data? = nil, directory: String? = nil, seconds: Int = 30,
    environment: [String: String]? = nil
) throws -> Outcome {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
    let inFile = scratch.appendingPathComponent("in")
    try (input ?? Data()).write(to: inFile)
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["-s", "KILL", String(seconds), executable] + arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if let environment { process.environment = environment }
    process.standardInput = try FileHandle(forReadingFrom: inFile)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus, output: try Data(contentsOf: out),
        error: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

/// This process's environment but `THUMBNAIL_BIN`, which is the tests' own
/// and not a variable the binary knows.
package var inheritedEnvironment: [String: String] {
    ProcessInfo.processInfo.environment.filter { $0.key != "THUMBNAIL_BIN" }
}

/// Runs the thumbnail binary, in `environment` or `inheritedEnvironment`.
@discardableResult
package func thumbnail(
    _ arguments: [String], input: Data? = nil, directory: String? = nil, environment: [String: String]? = nil
) throws -> Outcome {
    try runProcess(
        thumbnailBinary, arguments, input: input, directory: directory, environment: environment ?? inheritedEnvironment)
}

/// Runs a shell command (fixture generation, identify); fails the test on a non-zero exit.
/// Its bound is wide: an encoder (x265 in heif-enc) on a machine busy with the
/// other tests was seen to take 24 s of wall time for 2 s of CPU.
@discardableResult
package func sh(_ command: String, directory: String? = nil, seconds: Int = 120) throws -> String {
    let outcome = try runProcess("/bin/sh", ["-c", command], directory: directory, seconds: seconds)
    #expect(outcome.status == 0, "\(command): \(outcome.error)")
    return String(decoding: outcome.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
package struct ScratchDirectory {
    package let path: String

    package init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("thumbnail-test-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
    }

    package func file(_ name: String) -> String { path + "/" + name }

    package func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file(name))))
    }

    package func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    package func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Source images made by ImageMagick's `convert`, independent of the code under test.
package func makeFixtures(in directory: ScratchDirectory) throws {
    try sh(
        """
        convert -seed 7 -size 640x400 plasma: landscape.jpg
        convert -seed 8 -size 300x500 plasma: portrait.png
        convert -size 20x10 gradient:red-blue tiny.png
        """, directory: directory.path)
}

/// A JPEG with an EXIF APP1 segment holding only `Orientation = value`, inserted after SOI.
package func settingOrientation(_ jpeg: Data, _ value: UInt8) -> Data {
    let tiff: [UInt8] =
        Array("MM".utf8) + [0, 42, 0, 0, 0, 8]  // big-endian header, IFD at 8
        + [0, 1]  // one entry
        + [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, value, 0, 0]  // Orientation, SHORT, 1, value
        + [0, 0, 0, 0]  // no next IFD
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let length = payload.count + 2
    let segment: [UInt8] = [0xff, 0xe1, UInt8(length >> 8), UInt8(length & 0xff)] + payload
    return Data(jpeg.prefix(2)) + Data(segment) + Data(jpeg.dropFirst(2))
}

/// PSNR in dB between two images in `directory` (infinite when equal), by ImageMagick's `compare`.
package func psnr(_ a: String, _ b: String, in directory: String) throws -> Double {
    let outcome = try runProcess("/usr/bin/compare", ["-metric", "PSNR", a, b, "null:"], directory: directory)
    let text = outcome.error.trimmingCharacters(in: .whitespacesAndNewlines)
    return text == "inf" || text == "0" && outcome.status == 0 ? .infinity : Double(text) ?? -1
}

/// `WxH` of an image, by `identify`.
package func dimensions(_ path: String) throws -> String {
    try sh("identify -format '%wx%h' '\(path)'")
}

/// The ThumbnailError `body` throws, or nil when it succeeds.
package func thrown(_ body: () throws -> Void) -> ThumbnailError? {
    do {
        try body()
        return nil
    } catch let error as ThumbnailError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// One in-process use of ImageMagick at a time: its time limit is the
/// process's, and a restart read halfway by another render ends it.
private let inProcessLock = NSLock()

/// Runs `body`, which renders in this process, alone and without a time
/// limit: tests render for longer than one render's 60 seconds.
package func imageMagickAlone<Result>(_ body: () throws -> Result) throws -> Result {
    try inProcessLock.withLock {
        _ = try ImageMagick(timeLimit: .lifted, threads: 2)
        return try body()
    }
}

/// Runs `run(arguments, io)` in this process with its streams on files of
/// its own, standard input holding `input`; `now` is its clock;
/// `outputIsTerminal` makes standard output pass for a terminal. With
/// `inputStaysOpen`, standard input is a pipe that `input` (under 64 KiB)
/// is written to and that stays open until `run` returns, as a slow client's.
/// `directory`: the working directory while it runs, as a process's would be.
@discardableResult
package func runInProcess(
    _ arguments: [String], input: Data = Data(), directory: String? = nil, now: Int? = nil,
    inputStaysOpen: Bool = false, environment: [String: String] = [:], outputIsTerminal: Bool = false
) throws -> Outcome {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    var inFD: Int32
    var writer: Int32 = -1
    if inputStaysOpen {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0 && input.count < 65536)
        (inFD, writer) = (ends[0], ends[1])
        _ = input.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
    } else {
        try input.write(to: URL(fileURLWithPath: scratch.file("in")))
        inFD = open(scratch.file("in"), O_RDONLY)
    }
    defer { if writer >= 0 { close(writer) } }
    let outFD = open(scratch.file("out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let errFD = open(scratch.file("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    defer { [inFD, outFD, errFD].forEach { close($0) } }
    var io = ProcessIO(
        input: inFD, output: outFD, error: errFD, outputIsTerminal: outputIsTerminal, environment: environment)
    if let now { io.now = { now } }
    // The working directory is the process's: changed and restored under the lock every in-process run takes.
    let status = inProcessLock.withLock {
        let previous = FileManager.default.currentDirectoryPath
        if let directory { precondition(chdir(directory) == 0, "cannot enter \(directory)") }
        defer { if directory != nil { chdir(previous) } }
        return ThumbnailCore.run(arguments, io: io)
    }
    return Outcome(
        status: status, output: try Data(contentsOf: URL(fileURLWithPath: scratch.file("out"))),
        error: String(decoding: try Data(contentsOf: URL(fileURLWithPath: scratch.file("err"))), as: UTF8.self))
}

/// HMAC-SHA256 by openssl, cut to 16 bytes and base64url-encoded by coreutils:
/// an implementation independent of the one under test.
package func opensslSignature(_ message: String, key: [UInt8], scratch: ScratchDirectory) throws -> String {
    let file = scratch.file("message-\(UUID().uuidString)")
    try Data(message.utf8).write(to: URL(fileURLWithPath: file))
    let hex = key.map { String(format: "%02x", $0) }.joined()
    return try sh(
        "openssl dgst -sha256 -mac HMAC -macopt hexkey:\(hex) -binary < '\(file)'"
            + " | head -c 16 | base64 | tr '+/' '-_' | tr -d '='")
}

/// Writes `text` to `name` in `scratch` with `mode`, returning the path.
@discardableResult
package func writeFile(_ text: String, _ name: String, in scratch: ScratchDirectory, mode: mode_t = 0o600) throws -> String {
    let path = scratch.file(name)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, mode)
    return path
}

/// One response as a client reads it.
package struct HTTPResponse {
    package var statusLine: String
    /// Names lower-cased, in order.
    package var fields: [(name: String, value: String)]
    package var body: Data

    package func field(_ name: String) -> String? { fields.first { $0.name == name }?.value }
}

/// Splits what a server wrote into responses; a response to HEAD (its index
/// in `heads`) or a 304 has no body. Bytes that are not a whole response are
/// returned as `rest`.
package func readResponses(_ data: Data, heads: Set<Int> = []) -> (responses: [HTTPResponse], rest: Data) {
    var responses: [HTTPResponse] = []
    var rest = data
    while let end = rest.range(of: Data("\r\n\r\n".utf8)) {
        let lines = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            .components(separatedBy: "\r\n")
        let fields = lines.dropFirst().map { line in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (
                line[..<colon].lowercased(),
                line[colon...].dropFirst().trimmingCharacters(in: .whitespaces)
            )
        }
        var response = HTTPResponse(statusLine: lines[0], fields: fields, body: Data())
        let length =
            heads.contains(responses.count) || response.statusLine.contains(" 304 ")
            ? 0 : Int(response.field("content-length") ?? "") ?? 0
        guard rest.count - (end.upperBound - rest.startIndex) >= length else { break }
        response.body = rest[end.upperBound..<end.upperBound + length]
        responses.append(response)
        rest = rest[(end.upperBound + length)...]
    }
    return (responses, Data(rest))
}

/// The IMF-fixdate parser a client would use.
package let imfFixdate: DateFormatter = {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter
}()


/// A directory of ImageMagick coder modules holding the JPEG coder alone,
/// for `MAGICK_CODER_MODULE_PATH`: every other format then lacks its encoder.
package func onlyTheJPEGCoder(in scratch: ScratchDirectory) throws -> String {
    // Where ImageMagick says its coder modules are.
    let jpegCoder = try sh("convert -list configure | awk '$1 == \"CODER_PATH\" { print $2 }'") + "/jpeg.so"
    let coders = scratch.file("coders")
    try FileManager.default.createDirectory(atPath: coders, withIntermediateDirectories: true)
    for suffix in [".so", ".la"] {
        try FileManager.default.createSymbolicLink(
            atPath: coders + "/jpeg" + suffix, withDestinationPath: String(jpegCoder.dropLast(3)) + suffix)
    }
    return coders
}

/// A variable of the Makefile, the one place that names the build's
/// directories (the release build, moto's venv) and tools, as make sees it;
/// a relative path is made absolute unless `isPath` is false.
package func makeVariable(_ name: String, isPath: Bool = true) throws -> String {
    let outcome = try runProcess("/usr/bin/make", ["-s", "--no-print-directory", "-C", packageDirectory, "print-" + name])
    guard outcome.status == 0 else { throw MakeVariableMissing(name: name, error: outcome.error) }
    let value = String(decoding: outcome.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return value.hasPrefix("/") || !isPath ? value : packageDirectory + "/" + value
}

package struct MakeVariableMissing: Error {
    let name: String
    let error: String
}
