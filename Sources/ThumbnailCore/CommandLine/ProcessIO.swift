#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything `run` touches of the process it runs in: its streams, its
/// clock and its log. `main.swift` binds them to the real process
/// (`ProcessIO.standard`); tests bind them to files of their own.
public struct ProcessIO: Sendable {
    /// Standard input, output and error, as file descriptors.
    package var input: Int32
    package var output: Int32
    package var error: Int32
    package var outputIsTerminal: Bool
    /// `--batch` draws its progress bar on stderr when it is a terminal.
    package var errorIsTerminal: Bool
    /// Seconds since the epoch, for `Date` and log lines.
    package var now: @Sendable () -> Int
    /// The HTTP mode's log: the `--log` file, or syslog without one.
    package var openLog: @Sendable (_ path: String?) -> LogSink
    /// The process environment: the S3 root's region and credentials.
    package var environment: [String: String]
    /// Called once the mode is known to be `--inetd`, before anything else:
    /// under inetd fd 2 is the socket, and nothing may ever reach it.
    package var silenceErrorStream: @Sendable () -> Void

    package init(
        input: Int32, output: Int32, error: Int32, outputIsTerminal: Bool = false, errorIsTerminal: Bool = false,
        now: @escaping @Sendable () -> Int = { time(nil) },
        openLog: @escaping @Sendable (String?) -> LogSink = LogSink.open,
        environment: [String: String] = [:],
        silenceErrorStream: @escaping @Sendable () -> Void = {}
    ) {
        self.input = input
        self.output = output
        self.error = error
        self.outputIsTerminal = outputIsTerminal
        self.errorIsTerminal = errorIsTerminal
        self.now = now
        self.openLog = openLog
        self.environment = environment
        self.silenceErrorStream = silenceErrorStream
    }

    /// The process's own fds 0, 1 and 2, its clock and syslog.
    public static var standard: ProcessIO {
        ProcessIO(
            input: 0, output: 1, error: 2, outputIsTerminal: isatty(1) == 1, errorIsTerminal: isatty(2) == 1,
            environment: processEnvironment(),
            silenceErrorStream: {
                let null = open("/dev/null", O_WRONLY)
                if null >= 0 {
                    dup2(null, 2)
                    if null != 2 { close(null) }
                }
            })
    }

    func writeOutput(_ bytes: [UInt8]) throws(ThumbnailError) { try writeAll(output, bytes, name: "stdout") }

    func writeError(_ text: String) { _ = try? writeAll(error, Array(text.utf8), name: "stderr") }
}

/// `environ` as a dictionary; the first of a name given twice wins, as getenv(3) has it.
private func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") {
            let name = String(text[..<equals])
            if result[name] == nil { result[name] = String(text[text.index(after: equals)...]) }
        }
        entry += 1
    }
    return result
}

/// Where the HTTP mode's log lines go. Each line is written in one call,
/// control characters replaced: a request must not be able to forge lines.
package struct LogSink: Sendable {
    private let writeLine: @Sendable (String) -> Void
    /// The file's descriptor, when the sink owns one.
    private var file: Int32? = nil

    package init(_ writeLine: @escaping @Sendable (String) -> Void) { self.writeLine = writeLine }

    /// Closes the file the sink opened: a connection process that serves
    /// another connection opens the log again, which may have been rotated.
    func close() {
        if let file { Glibc.close(file) }
    }

    package func write(_ line: String) {
        writeLine(String(decoding: line.utf8.map { $0 < 0x20 || $0 == 0x7f ? UInt8(ascii: "?") : $0 }, as: UTF8.self))
    }

    /// `--log -`: standard output, which a container's runtime collects.
    static let standardOutput = "-"

    /// Appends to `path` (standard output for `-`), or goes to syslog
    /// without one or when it cannot be opened (which syslog is then told).
    @Sendable package static func open(_ path: String?) -> LogSink {
        if path == standardOutput { return LogSink { line in _ = try? writeAll(1, Array((line + "\n").utf8), name: "log") } }
        let fd = path.map { Glibc.open($0, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) } ?? -1
        let failure = errnoText()
        if fd >= 0 {
            var sink = LogSink { line in _ = try? writeAll(fd, Array((line + "\n").utf8), name: "log") }
            sink.file = fd
            return sink
        }
        openlog(nil, LOG_PID, LOG_DAEMON)
        let sink = LogSink { line in line.withCString { text in withVaList([text]) { vsyslog(LOG_INFO, "%s", $0) } } }
        if let path { sink.write("thumbnail: \(path): \(failure); logging to syslog") }
        return sink
    }
}

/// `--check-config`'s check of `--log`: that the file opens for appending,
/// as `LogSink.open` opens it, or, when it does not exist yet, that its
/// directory would let the first request create it. It creates nothing.
func checkLogFile(_ path: String?) throws(ThumbnailError) -> String {
    guard let path else { return "to syslog, without --log" }
    if path == LogSink.standardOutput { return "to standard output" }
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY)
    if fd >= 0 {
        close(fd)
        return "appends to \(path)"
    }
    let failure = errnoText()
    guard errno == ENOENT, access(directoryOf(path), W_OK | X_OK) == 0 else {
        throw ThumbnailError(.misconfigured, path, "cannot be appended to: \(failure); the HTTP mode would log to syslog")
    }
    return "\(path) does not exist yet; the first request creates it"
}
