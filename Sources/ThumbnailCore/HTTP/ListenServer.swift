import CProcess
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The only file that imports CProcess: the listening server's parent, its
// connection processes' set-up, and their SIGTERM.

/// `thumbnail --listen`, and `--inetd` handed a listening socket (`sockets`):
/// the parent binds, drops to `--user`, reads the configuration and keys,
/// sets up ImageMagick and the storage, then hands each connection to a
/// connection process, which serves it as `--inetd` serves its one, and
/// then waits for another: one that waits is reused, else one is forked.
/// The parent itself decodes nothing and starts no thread. Start-up failures throw;
/// once serving, what happens to the server goes to `events`.
func serveListening(
    _ server: ServerInvocation, sockets inherited: [Int32]?, arguments: [String], state: ProcessState, io: ProcessIO,
    events: LogSink
) throws(ThumbnailError) -> Int32 {
    var listeners = inherited ?? []
    if inherited == nil {
        if server.listening.fromSystemd {
            guard let passed = try systemdListeningSockets(io.environment) else {
                throw ThumbnailError(.misconfigured, "--listen systemd", "systemd passed no listening socket (LISTEN_FDS)")
            }
            listeners += passed
        }
        for address in server.listening.addresses { listeners.append(try listeningSocket(address, option: "--listen")) }
    }
    let metricsListener = try server.listening.metricsAddress.map { address throws(ThumbnailError) in
        try listeningSocket(address, option: "--metrics-listen")
    }
    // The loop accepts until nothing is left to accept: no socket may block it, a handed-over one included.
    for listener in listeners + [metricsListener].compactMap({ $0 }) {
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
    }
    let user = try dropPrivileges(to: server.listening.user)
    state.magick.preload()
    prepareAllocatorForRenders()
    // Keys, token and storage are read as the user that serves, at start as on SIGHUP
    // (the --config file only on SIGHUP: `run` read it before).
    let slotFile = thumbnail_memfd("thumbnail-render-slots")
    var reports: [Int32] = [-1, -1]
    guard slotFile >= 0, pipe(&reports) == 0 else { throw ThumbnailError(.ioFailure, "--listen", errnoText()) }
    for end in reports {
        _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        _ = fcntl(end, F_SETFL, O_NONBLOCK)
    }
    var parent = try ListeningParent(
        listeners: listeners, metricsListener: metricsListener,
        configuration: try ServingConfiguration(server, state: state, slotFile: slotFile, io: io), arguments: arguments,
        state: state,
        slotFile: slotFile, reports: (reports[0], MetricsReporter(fd: reports[1])), io: io, events: events)
    let addresses = listeners.map { localAddress(of: $0) }.joined(separator: ", ")
    events.write(
        "thumbnail: listening on \(addresses) as \(user), \(server.renders.maxRenders) renders at once, "
            + "\(server.listening.maxConnections) connections")
    return parent.serve()
}

/// What the configuration makes, read at start and again on SIGHUP: new
/// connections get the latest; those in progress keep theirs.
struct ServingConfiguration {
    let server: ServerInvocation
    let site: Site
    let slots: RenderSlots

    /// Checked as a connection would use it, storage included: one that does not check is refused.
    /// The process state (ImageMagick's, made once by `run`) stays the same across reloads.
    init(_ server: ServerInvocation, state: ProcessState, slotFile: Int32, io: ProcessIO) throws(ThumbnailError) {
        self.server = server
        site = try Site(server, state: state, io: io)
        slots =
            server.renders.slotFile == nil
            ? RenderSlots(fd: slotFile, bound: server.renders) : try RenderSlots(server.renders, environment: io.environment)
        try site.engine.storage.checkAvailable()
        // A remote store's client library is loaded here once, not by every connection.
        if case .directory = server.sources.root {} else { _ = try HTTPClient.library.get() }
    }
}

/// The parent's loop: accept and hand over or fork, answer overload itself,
/// reap, count, and act on SIGTERM, SIGINT and SIGHUP, all from one poll(2)
/// of the listening sockets, the connection processes' reports and
/// channels, and a signalfd.
/// Signals are blocked in the parent and read from the signalfd, so
/// nothing ever interrupts it.
private struct ListeningParent {
    var listeners: [Int32]
    /// `--metrics-listen`: each connection a process with a copy of `metrics`.
    var metricsListener: Int32?
    var configuration: ServingConfiguration
    let arguments: [String]
    /// Made once by `run`; a reload keeps it.
    let state: ProcessState
    let slotFile: Int32
    /// Where connection processes send each request's figures, and how.
    let reports: (read: Int32, reporter: MetricsReporter)
    /// The start of a line the last read of `reports` cut.
    var reportTail: [UInt8] = []
    let io: ProcessIO
    let events: LogSink
    let signals: Int32
    var metrics = Metrics()
    /// The connection processes, and those of them that serve `/metrics`.
    var children: Set<pid_t> = []
    var metricsChildren: Set<pid_t> = []
    /// The connection processes serving a connection now: what `--max-connections` counts.
    var serving: Set<pid_t> = []
    /// The connection processes that may be handed another connection.
    var workers: [pid_t: Worker] = [:]
    /// Of `workers`, those waiting for one, the latest to finish last.
    var idle: [pid_t] = []
    /// Counts reloads: a connection process forked before the last one is not reused.
    var generation = 0
    /// Sockets answered 503 by the parent: their requests are read and
    /// dropped until the client closes, or a deadline, so that closing them
    /// never resets the connection before the client has read the reply.
    var lingering: [(fd: Int32, until: Int)] = []
    /// Set on SIGTERM or SIGINT: when the last connection process must be gone.
    var drainDeadline: Int? = nil
    /// Accepting paused until then, after running out of file descriptors.
    var acceptPausedUntil = 0

    static let handledSignals = [SIGTERM, SIGINT, SIGHUP, SIGCHLD]
    /// Past it the oldest lingering socket is closed.
    static let maxLingering = 256
    static let lingerMilliseconds = 2000
    static let maxMetricsConnections = 4

    /// The parent's end of a connection process's channel: the process
    /// writes a byte on it when it waits for a connection, and reads the
    /// connections handed to it (SCM_RIGHTS); it exits when the channel closes.
    struct Worker {
        let channel: Int32
        let generation: Int
    }

    init(
        listeners: [Int32], metricsListener: Int32?, configuration: ServingConfiguration, arguments: [String],
        state: ProcessState, slotFile: Int32, reports: (read: Int32, reporter: MetricsReporter), io: ProcessIO,
        events: LogSink
    ) throws(ThumbnailError) {
        self.listeners = listeners
        self.metricsListener = metricsListener
        self.configuration = configuration
        self.arguments = arguments
        self.state = state
        self.slotFile = slotFile
        self.reports = reports
        self.io = io
        self.events = events
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in Self.handledSignals { sigaddset(&mask, signal) }
        sigprocmask(SIG_BLOCK, &mask, nil)
        signals = thumbnail_signalfd(&mask)
        guard signals >= 0 else { throw ThumbnailError(.ioFailure, "signalfd", errnoText()) }
    }

    mutating func serve() -> Int32 {
        while true {
            let now = monotonicMilliseconds()
            lingering.removeAll { entry in
                if entry.until <= now { close(entry.fd) }
                return entry.until <= now
            }
            if let deadline = drainDeadline {
                if children.isEmpty { break }
                if deadline <= now {
                    events.write("thumbnail: \(children.count) connections still open after --shutdown-timeout: killed")
                    for child in children { kill(child, SIGKILL) }
                    while waitpid(-1, nil, 0) > 0 {}
                    break
                }
            }
            let accepting = now >= acceptPausedUntil
            // Channels before listening sockets: a process that waits is known before the next accept.
            let owners = Dictionary(uniqueKeysWithValues: workers.map { ($0.value.channel, $0.key) })
            var polled = ([signals, reports.read] + owners.keys).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if accepting {
                polled += (listeners + [metricsListener].compactMap { $0 }).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            }
            polled += lingering.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let deadlines = lingering.map(\.until) + [drainDeadline, accepting ? nil : acceptPausedUntil].compactMap { $0 }
            let timeout = deadlines.min().map { Int32(clamping: max(0, $0 - now)) } ?? -1
            guard poll(&polled, nfds_t(polled.count), timeout) >= 0 || errno == EINTR else {
                events.write("thumbnail: poll: \(errnoText())")
                return 70
            }
            for entry in polled where entry.revents != 0 {
                if entry.fd == signals {
                    takeSignals()
                } else if entry.fd == reports.read {
                    takeReports()
                } else if let worker = owners[entry.fd] {
                    takeWaiting(worker)
                } else if listeners.contains(entry.fd) || entry.fd == metricsListener {
                    acceptConnections(from: entry.fd)
                } else if lingering.contains(where: { $0.fd == entry.fd }) {
                    // Not a listening socket closed since the poll began (SIGTERM came first).
                    drainLingering(entry.fd)
                }
            }
        }
        for entry in lingering { close(entry.fd) }
        events.write("thumbnail: stopped")
        return 0
    }

    private mutating func takeSignals() {
        var info = signalfd_siginfo()
        while read(signals, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            switch Int32(info.ssi_signo) {
            case SIGCHLD: reapChildren()
            case SIGHUP: reload()
            default: if drainDeadline == nil { startDraining(Int32(info.ssi_signo)) }
            }
        }
    }

    /// The lines connection processes wrote, a pipe's worth at a time.
    private mutating func takeReports() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(reports.read, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        let lines = (reportTail + buffer[..<count]).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        reportTail = Array(lines.last ?? [])
        for line in lines.dropLast() {
            if let figures = RequestFigures(line: String(decoding: line, as: UTF8.self)) { metrics.record(figures) }
        }
    }

    /// Accepts what the kernel has queued, a bounded number at a time so
    /// signals are not kept waiting.
    private mutating func acceptConnections(from listener: Int32) {
        for _ in 0..<64 {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                if errno == EMFILE || errno == ENFILE {
                    events.write("thumbnail: accept: \(errnoText()); accepting again in 100 ms")
                    acceptPausedUntil = monotonicMilliseconds() + 100
                }
                return
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            var on: Int32 = 1
            // Replies go out as they are written, not held back to fill a packet.
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            start(connection, metricsOnly: listener == metricsListener)
        }
    }

    /// Hands the connection to a connection process that waits, or forks
    /// one, or answers 503 when there are `--max-connections` connections
    /// already or the fork fails. A metrics connection gets a process of its
    /// own, which serves `/metrics` as it is at the fork.
    private mutating func start(_ connection: Int32, metricsOnly: Bool) {
        if metricsOnly {
            // Apart from --max-connections, so that an overloaded server can still be watched.
            guard metricsChildren.count < Self.maxMetricsConnections else {
                return refuse(connection, .connections, note: "\(Self.maxMetricsConnections) metrics connections already")
            }
        } else {
            metrics.recordConnection()
            let maxConnections = configuration.server.listening.maxConnections
            guard serving.count < maxConnections else {
                return refuse(connection, .connections, note: "\(maxConnections) connections already: --max-connections")
            }
            if let worker = handToWaiting(connection) {
                close(connection)
                serving.insert(worker)
                return
            }
        }
        var channel: [Int32] = [-1, -1]
        // Without a channel the process serves this connection alone.
        if !metricsOnly { _ = thumbnail_channel(&channel) }
        let parent = getpid()
        let child = fork()
        if child == 0 {
            let others =
                listeners + [metricsListener, reports.read, signals, channel[0]].compactMap { $0 } + lingering.map(\.fd)
                + workers.values.map(\.channel)
            for fd in others where fd >= 0 { closeDescriptor(fd) }
            Drain.install(requested: drainDeadline != nil)
            // The parent's death is a SIGTERM: the request in progress is answered, and no other read.
            _ = thumbnail_die_with_parent(SIGTERM)
            if getppid() != parent { _exit(0) }
            _exit(metricsOnly ? serveMetrics(connection) : serveThumbnails(connection, then: channel[1]))
        }
        if channel[1] >= 0 { close(channel[1]) }
        guard child > 0 else {
            if channel[0] >= 0 { close(channel[0]) }
            return refuse(connection, .fork, note: "fork: \(errnoText())")
        }
        close(connection)
        children.insert(child)
        if metricsOnly {
            metricsChildren.insert(child)
        } else {
            serving.insert(child)
            if channel[0] >= 0 { workers[child] = Worker(channel: channel[0], generation: generation) }
        }
    }

    /// The connection sent to the process that waits and finished last, whose
    /// heap is likeliest still warm; nil when none waits. A process that died
    /// waiting is forgotten on the way.
    private mutating func handToWaiting(_ connection: Int32) -> pid_t? {
        while let worker = idle.popLast() {
            if let channel = workers[worker]?.channel, thumbnail_send_fd(channel, connection) == 0 { return worker }
            retire(worker)
        }
        return nil
    }

    /// A connection process's byte: it waits for a connection. One forked
    /// before a reload, past the number kept waiting, or during a shutdown
    /// is told to exit instead (its channel closed), as is one whose channel
    /// says it has gone.
    private mutating func takeWaiting(_ worker: pid_t) {
        // Reaped or retired since the poll began: its channel is closed.
        guard let state = workers[worker] else { return }
        var byte: UInt8 = 0
        let received = recv(state.channel, &byte, 1, Int32(MSG_DONTWAIT))
        guard received == 1 else {
            if received == 0 || (errno != EAGAIN && errno != EINTR) { retire(worker) }
            return
        }
        serving.remove(worker)
        guard state.generation == generation, idle.count < maxWaiting, drainDeadline == nil else { return retire(worker) }
        idle.append(worker)
    }

    /// How many connection processes are kept waiting: two for each render
    /// that may run at once. A process whose connection ends says so after
    /// its client may have connected again; with one each, that next
    /// connection found none waiting, and a process was forked for a third
    /// of the connections that asked only /healthz.
    private var maxWaiting: Int { configuration.server.renders.maxRenders * 2 }

    /// Closes the process's channel, which tells it to exit if it waits, or once it has finished.
    private mutating func retire(_ worker: pid_t) {
        if let channel = workers.removeValue(forKey: worker)?.channel { close(channel) }
        idle.removeAll { $0 == worker }
    }

    /// In a connection process: the connection served as `--inetd` serves
    /// one; then, while the process has answered fewer than
    /// `--max-requests` requests in all and is not told to finish, those the
    /// parent hands over on `channel`, one at a time, each with a heap
    /// trimmed as after a render. It exits when the channel closes.
    private func serveThumbnails(_ first: Int32, then channel: Int32) -> Int32 {
        let configuration = self.configuration
        var connection = first
        var answered = 0
        while true {
            let served = serveConnection(configuration.server, io: connectionIO(connection), reporter: reports.reporter) {
                () throws(ThumbnailError) in
                try configuration.site.responder(slots: configuration.slots)
            }
            close(connection)
            answered += served.requests
            guard channel >= 0, served.status == 0, answered < configuration.server.maxRequests, !Drain.isRequested else {
                return served.status
            }
            releaseRenderMemory()
            var waiting: UInt8 = 1
            guard send(channel, &waiting, 1, Int32(MSG_NOSIGNAL)) == 1 else { return 0 }
            // SIGTERM ends the wait, but a connection handed over before it is still served.
            var handed = pollfd(fd: channel, events: Int16(POLLIN), revents: 0)
            _ = Drain.poll(&handed, timeout: -1)
            connection = thumbnail_receive_fd(channel)
            guard connection >= 0 else { return 0 }
        }
    }

    /// In a metrics connection's process: the parent's figures as they were at the fork.
    private func serveMetrics(_ connection: Int32) -> Int32 {
        let text = metrics.text(
            open: serving.count, maxConnections: configuration.server.listening.maxConnections,
            rendering: configuration.slots.held, maxRenders: configuration.slots.count)
        return serveConnection(configuration.server, io: connectionIO(connection)) { MetricsResponder(text: text) }.status
    }

    private func connectionIO(_ connection: Int32) -> ProcessIO {
        var connectionIO = io
        (connectionIO.input, connectionIO.output) = (connection, connection)
        return connectionIO
    }

    /// The parent's own answer: 503, briefly, never kept, and logged.
    private mutating func refuse(_ connection: Int32, _ reason: Metrics.Overload, note: String) {
        let reply = HTTPReply.overloaded
        let bytes = reply.serialized(date: io.now(), withBody: true, close: true)
        let sent = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        metrics.recordRefusal(reason, bytes: sent == bytes.count ? reply.body.count : 0)
        appendToLog(
            configuration.server.logFormat.line(
                AccessRecord(
                    time: io.now(), client: peerAddress(of: connection), status: reply.status,
                    bytes: sent == bytes.count ? reply.body.count : 0, milliseconds: 0, note: note)))
        shutdown(connection, Int32(SHUT_WR))
        _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
        if lingering.count >= Self.maxLingering { close(lingering.removeFirst().fd) }
        lingering.append((connection, monotonicMilliseconds() + Self.lingerMilliseconds))
    }

    /// A line of the parent's own in the access log, the file opened for it
    /// alone: the parent writes few, and must not hold a rotated file, nor
    /// a descriptor for each line.
    private func appendToLog(_ line: String) {
        let path = configuration.server.logFile
        let file = path == LogSink.standardOutput ? nil : path
        let fd = file.map { open($0, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) } ?? -1
        guard fd >= 0 else { return io.openLog(path).write(line) }
        defer { close(fd) }
        LogSink { _ = try? writeAll(fd, Array(($0 + "\n").utf8), name: "log") }.write(line)
    }

    /// Reads and drops what a refused client sent; closes once it has closed.
    private mutating func drainLingering(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { continue }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
            break
        }
        close(fd)
        lingering.removeAll { $0.fd == fd }
    }

    private mutating func reapChildren() {
        var status: Int32 = 0
        while true {
            let child = waitpid(-1, &status, WNOHANG)
            guard child > 0 else { return }
            children.remove(child)
            metricsChildren.remove(child)
            serving.remove(child)
            retire(child)
            // WIFSIGNALED: the low seven bits name the signal, neither 0 (exited) nor 0x7f (stopped).
            let signal = status & 0x7f
            if signal != 0 && signal != 0x7f {
                metrics.recordKilled()
                events.write("thumbnail: connection process \(child): killed by signal \(signal) (\(String(cString: strsignal(signal))))")
            }
        }
    }

    /// SIGTERM or SIGINT: serve what the kernel has queued already, stop
    /// accepting, close the processes that wait, and tell every other
    /// connection process to finish.
    private mutating func startDraining(_ signal: Int32) {
        drainDeadline = monotonicMilliseconds() + configuration.server.listening.shutdownTimeout * 1000
        for listener in listeners { acceptConnections(from: listener) }
        for listener in listeners + [metricsListener].compactMap({ $0 }) { closeDescriptor(listener) }
        (listeners, metricsListener) = ([], nil)
        for worker in idle { retire(worker) }
        for child in children { kill(child, SIGTERM) }
        events.write("thumbnail: \(String(cString: strsignal(signal))): finishing \(serving.count) connections")
    }

    /// SIGHUP: the original arguments (and environment) parsed again, their files read again;
    /// a configuration that does not check is refused, the old one kept.
    private mutating func reload() {
        do throws(ThumbnailError) {
            let server: ServerInvocation
            switch try ParsedInvocation(arguments: arguments, environment: io.environment).result.get() {
            case .listen(let parsed), .inetd(let parsed): server = parsed
            default: throw ThumbnailError(.usage, "arguments", "no longer an HTTP mode")
            }
            configuration = try ServingConfiguration(server, state: state, slotFile: slotFile, io: io)
            // Processes that wait hold the old configuration: new connections get new ones.
            generation += 1
            for worker in idle { retire(worker) }
            events.write("thumbnail: SIGHUP: configuration read again")
        } catch {
            events.write("thumbnail: SIGHUP: configuration refused, the old one kept: \(error)")
        }
    }
}

/// Closes `fd`, or points it at /dev/null when it is a standard one (a
/// super-server's listening socket), so that the number is never reused.
func closeDescriptor(_ fd: Int32) {
    guard fd <= 2 else {
        close(fd)
        return
    }
    let null = open("/dev/null", O_RDWR)
    dup2(null, fd)
    close(null)
}

/// Becomes `name` (its groups, then its group, then itself) when started as
/// root; renders never run as root, so root without `--user` is refused.
/// Returns the name of the user that serves.
func dropPrivileges(to name: String?) throws(ThumbnailError) -> String {
    guard let name else {
        guard geteuid() != 0 else {
            throw ThumbnailError(.usage, "--user", "started as root: name the user to serve as, --user NAME")
        }
        return getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? String(geteuid())
    }
    guard let entry = getpwnam(name) else { throw ThumbnailError(.usage, "--user", "'\(name)': no such user") }
    let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
    guard uid != 0 else { throw ThumbnailError(.usage, "--user", "'\(name)' is root") }
    guard geteuid() == 0 else {
        guard uid == geteuid() else { throw ThumbnailError(.forbidden, "--user", "only root can become '\(name)'") }
        return name
    }
    // Changing user leaves the processes undumpable: no process of the user's
    // may trace them or read their memory, which holds the keys and the
    // store's credentials. Their renders' peak memory says so (CostMeter).
    guard initgroups(name, gid) == 0, setgid(gid) == 0, setuid(uid) == 0, setuid(0) != 0 else {
        throw ThumbnailError(.forbidden, "--user", "cannot become '\(name)': \(errnoText())")
    }
    return name
}

/// `address:port` of a listening socket, for the start-up line.
private func localAddress(of fd: Int32) -> String {
    var address = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let port: UInt16
    switch Int32(address.ss_family) {
    case AF_INET: port = withUnsafeBytes(of: address) { $0.load(as: sockaddr_in.self) }.sin_port
    case AF_INET6: port = withUnsafeBytes(of: address) { $0.load(as: sockaddr_in6.self) }.sin6_port
    default: return "fd \(fd)"
    }
    let host = numericHost(address) ?? "-"
    return (host.contains(":") ? "[\(host)]" : host) + ":\(UInt16(bigEndian: port))"
}

/// Before a process's first render, as a render would leave it: buffers of
/// up to 2 MiB from the heap, not each mapped and unmapped anew, which
/// cost a connection's first render 200 more page faults than a kept-alive
/// one's later renders (512x512 from 1 to 6 megapixel JPEG photographs).
func prepareAllocatorForRenders() {
    thumbnail_raise_mmap_threshold(2 << 20)
}

/// After a render: the heap it freed given back to the kernel, so that a
/// kept-alive connection waiting for its next request holds 1.2 MB, not
/// 2.7 (PSS, measured with 20 such connections).
func releaseRenderMemory() {
    _ = thumbnail_trim_heap()
}

/// SIGTERM or SIGINT to a connection's process: the request in progress is
/// answered with `Connection: close` and no other is read; an idle
/// connection closes at once. Both stay blocked but while the connection
/// waits for a request, so they never interrupt a render, and one that
/// comes during it is seen before the reply is written.
enum Drain {
    private static let requested = Atomic<Bool>(false)
    private static let installed = Atomic<Bool>(false)

    /// In a connection's process, before it reads; `requested` when the
    /// server is already draining.
    static func install(requested alreadyRequested: Bool) {
        requested.store(alreadyRequested, ordering: .relaxed)
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGTERM, SIGINT] {
            Glibc.signal(signal) { _ in Drain.requested.store(true, ordering: .relaxed) }
            sigaddset(&mask, signal)
        }
        // The parent's other signals are its own: a terminal's hangup is not the connection's business.
        Glibc.signal(SIGHUP, SIG_IGN)
        sigprocmask(SIG_SETMASK, &mask, nil)
        installed.store(true, ordering: .relaxed)
    }

    /// Whether the process was told to finish: the flag, or a signal still pending.
    static var isRequested: Bool {
        guard installed.load(ordering: .relaxed) else { return false }
        var pending = sigset_t()
        sigpending(&pending)
        return requested.load(ordering: .relaxed) || sigismember(&pending, SIGTERM) == 1
            || sigismember(&pending, SIGINT) == 1
    }

    /// poll(2) on one descriptor, letting SIGTERM and SIGINT in while it
    /// waits: they end the wait with EINTR.
    static func poll(_ descriptor: inout pollfd, timeout: Int32) -> Int32 {
        guard installed.load(ordering: .relaxed) else { return Glibc.poll(&descriptor, 1, timeout) }
        var mask = sigset_t()
        sigemptyset(&mask)
        return thumbnail_ppoll(&descriptor, 1, timeout, &mask)
    }
}
