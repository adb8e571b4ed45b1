import Foundation
import Testing

@testable import ThumbnailCore

/// The package's top directory (Package.swift, man, completions, Makefile).
let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The built `thumbnail` binary: `$THUMBNAIL_BIN`, or the debug build beside these sources.
let thumbnailBinary: String = {
    if let path = ProcessInfo.processInfo.environment["THUMBNAIL_BIN"] { return path }
    return packageDirectory + "/.build/debug/thumbnail"
}()

struct Outcome {
    var status: Int32
    var output: Data
    var error: String
}

/// Runs `executable` with `arguments`, killed after `seconds`; stdout and
/// stderr go through files so neither pipe can fill and stall it.
@discardableResult
func runProcess(
    _ executable: String, _ arguments: [String], input: Data? = nil, directory: String? = nil, seconds: Int = 30
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
    process.standardInput = try FileHandle(forReadingFrom: inFile)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus, output: try Data(contentsOf: out),
        error: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

/// Runs the thumbnail binary.
@discardableResult
func thumbnail(_ arguments: [String], input: Data? = nil, directory: String? = nil) throws -> Outcome {
    try runProcess(thumbnailBinary, arguments, input: input, directory: directory)
}

/// Runs a shell command (fixture generation, identify); fails the test on a non-zero exit.
@discardableResult
func sh(_ command: String, directory: String? = nil) throws -> String {
    let outcome = try runProcess("/bin/sh", ["-c", command], directory: directory)
    #expect(outcome.status == 0, "\(command): \(outcome.error)")
    return String(decoding: outcome.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("thumbnail-test-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file(name))))
    }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Source images made by ImageMagick's `convert`, independent of the code under test.
func makeFixtures(in directory: ScratchDirectory) throws {
    try sh(
        """
        convert -seed 7 -size 640x400 plasma: landscape.jpg
        convert -seed 8 -size 300x500 plasma: portrait.png
        convert -size 20x10 gradient:red-blue tiny.png
        """, directory: directory.path)
}

/// A JPEG with an EXIF APP1 segment holding only `Orientation = value`, inserted after SOI.
func settingOrientation(_ jpeg: Data, _ value: UInt8) -> Data {
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

/// `WxH` of an image, by `identify`.
func dimensions(_ path: String) throws -> String {
    try sh("identify -format '%wx%h' '\(path)'")
}

/// The ThumbnailError `body` throws, or nil when it succeeds.
func thrown(_ body: () throws -> Void) -> ThumbnailError? {
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
