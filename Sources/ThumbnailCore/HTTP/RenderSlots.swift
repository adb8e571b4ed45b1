#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HTTPReply {
    /// Too busy: a render that found no slot in time, or a connection past
    /// `--max-connections`. Asked again in a second, never kept.
    static var overloaded: HTTPReply {
        var reply = HTTPReply.text(503, cacheControl: "no-store")
        reply.fields.append(("Retry-After", "1"))
        return reply
    }
}

/// At most `count` renders at once across every process that shares one
/// file: slot i is a write lock on byte i. The locks are POSIX record locks,
/// owned by the process that takes them, so forked processes sharing one
/// open file each hold their own, and the kernel releases them when the
/// process ends, however it ends (SIGKILL included): a slot is never lost.
struct RenderSlots {
    let fd: Int32
    let count: Int
    /// Seconds a request may wait for a slot.
    let queueTimeout: Int

    /// The file `--render-slots` names, or by default under `--inetd` one per
    /// user in the temporary directory, shared by every process of that user.
    /// It must be a regular file the server's user owns, so that no other
    /// user can hold its slots.
    init(_ bound: RenderBound, environment: [String: String]) throws(ThumbnailError) {
        let directory = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = bound.slotFile ?? "\(directory)/thumbnail-render-slots.\(geteuid())"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ThumbnailError(.misconfigured, path, "render slots: \(errnoText())") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
            close(fd)
            throw ThumbnailError(.misconfigured, path, "render slots: not a regular file of user \(geteuid())")
        }
        self.init(fd: fd, bound: bound)
    }

    init(fd: Int32, bound: RenderBound) {
        self.fd = fd
        count = bound.maxRenders
        queueTimeout = bound.queueTimeout
    }

    /// Runs `body` holding a slot, waiting for one at most `queueTimeout`
    /// seconds; nil when none came free in that time.
    func withSlot<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result? {
        guard let slot = take() else { return nil }
        defer { lock(slot, type: F_UNLCK) }
        return try body()
    }

    /// A free slot, tried in turn, again after a pause that doubles up to
    /// 50 ms, until the queue timeout.
    private func take() -> Int? {
        let deadline = monotonicMilliseconds() + queueTimeout * 1000
        var pause = 1
        while true {
            if let free = (0..<count).first(where: { lock($0, type: F_WRLCK) }) { return free }
            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0 else { return nil }
            usleep(useconds_t(min(pause, remaining) * 1000))
            pause = min(pause * 2, 50)
        }
    }

    /// How many slots some process holds now.
    var held: Int {
        (0..<count).count { slot in
            var request = byte(slot, type: F_WRLCK)
            return fcntl(fd, F_GETLK, &request) == 0 && request.l_type != Int16(F_UNLCK)
        }
    }

    @discardableResult
    private func lock(_ slot: Int, type: Int32) -> Bool {
        var request = byte(slot, type: type)
        return fcntl(fd, F_SETLK, &request) == 0
    }

    /// The byte of `slot`, as fcntl(2) names a lock on it.
    private func byte(_ slot: Int, type: Int32) -> flock {
        var request = flock()
        request.l_type = Int16(type)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = off_t(slot)
        request.l_len = 1
        return request
    }
}
