#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where `--listen` and `--metrics-listen` bind: `PORT` (every address, IPv6
/// and IPv4 alike), `HOST:PORT` with a numeric IPv4 address, or
/// `[HOST]:PORT` with a numeric IPv6 one.
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package enum Host: Sendable, Equatable {
        case any
        case ipv4(String)
        case ipv6(String)
    }

    package var host: Host
    package var port: Int

    init(parsing text: String, option: String) throws(ThumbnailError) {
        func refuse(_ why: String) -> ThumbnailError { ThumbnailError(.usage, option, "'\(text)': \(why)") }
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                throw refuse("expected [IPv6]:PORT")
            }
            let address = String(text[text.index(after: text.startIndex)..<close])
            guard isNumericAddress(address, family: AF_INET6) else { throw refuse("not a numeric IPv6 address") }
            host = .ipv6(address)
            portText = text[close...].dropFirst(2)
        } else if let colon = text.lastIndex(of: ":") {
            let address = String(text[..<colon])
            guard isNumericAddress(address, family: AF_INET) else {
                throw refuse("not a numeric IPv4 address; an IPv6 one goes in brackets")
            }
            host = .ipv4(address)
            portText = text[colon...].dropFirst()
        } else {
            host = .any
            portText = text[...]
        }
        guard let port = decimal(portText), (1...65535).contains(port) else { throw refuse("the port is not 1 to 65535") }
        self.port = port
    }

    package var description: String {
        switch host {
        case .any: "\(port)"
        case .ipv4(let address): "\(address):\(port)"
        case .ipv6(let address): "[\(address)]:\(port)"
        }
    }
}

private func isNumericAddress(_ text: String, family: Int32) -> Bool {
    var buffer = in6_addr()
    return inet_pton(family, text, &buffer) == 1
}

/// A socket bound to `address` and listening. Every address
/// is one IPv6 socket that takes IPv4 too, or IPv4 alone on a host without IPv6.
func listeningSocket(_ address: ListenAddress, option: String) throws(ThumbnailError) -> Int32 {
    var storage = sockaddr_storage()
    var length: socklen_t
    var family: Int32
    switch address.host {
    case .ipv4(let text):
        var inet = sockaddr_in()
        inet.sin_family = sa_family_t(AF_INET)
        inet.sin_port = UInt16(address.port).bigEndian
        inet_pton(AF_INET, text, &inet.sin_addr)
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: inet, as: sockaddr_in.self) }
        (length, family) = (socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
    case .ipv6, .any:
        var inet6 = sockaddr_in6()
        inet6.sin6_family = sa_family_t(AF_INET6)
        inet6.sin6_port = UInt16(address.port).bigEndian
        if case .ipv6(let text) = address.host { inet_pton(AF_INET6, text, &inet6.sin6_addr) }
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: inet6, as: sockaddr_in6.self) }
        (length, family) = (socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
    }
    var fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0, errno == EAFNOSUPPORT, address.host == .any {
        var inet = sockaddr_in()
        inet.sin_family = sa_family_t(AF_INET)
        inet.sin_port = UInt16(address.port).bigEndian
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: inet, as: sockaddr_in.self) }
        (length, family) = (socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }
    guard fd >= 0 else { throw ThumbnailError(.ioFailure, "\(option) \(address)", errnoText()) }
    var on: Int32 = 1, off: Int32 = 0
    // A restarted server binds at once, whatever connections of the last one linger.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
    if family == AF_INET6, address.host == .any {
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
    }
    let bound = withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    // The kernel's own queue is the cap: connections past it wait there, not refused.
    guard bound == 0, listen(fd, SOMAXCONN) == 0 else {
        let code = errno
        close(fd)
        let kind: ThumbnailError.Kind =
            switch code {
            case EACCES, EPERM: .forbidden
            // Taken, or not an address of this host.
            case EADDRINUSE, EADDRNOTAVAIL: .misconfigured
            default: .ioFailure
            }
        throw ThumbnailError(kind, "\(option) \(address)", errnoText(code))
    }
    return fd
}

/// Whether `fd` is a socket that listens (a super-server's `wait = yes`, or
/// systemd's `Accept=no` on standard input) rather than a connection.
func isListeningSocket(_ fd: Int32) -> Bool {
    var listening: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening != 0
}

/// The listening sockets systemd passed (`LISTEN_FDS`, from fd 3 on), when
/// `LISTEN_PID` names this process; nil when it passed none. Each must listen.
func systemdListeningSockets(_ environment: [String: String]) throws(ThumbnailError) -> [Int32]? {
    guard let pid = environment["LISTEN_PID"].flatMap({ Int32($0) }), pid == getpid(),
        let count = environment["LISTEN_FDS"].flatMap({ Int32($0) }), count > 0
    else { return nil }
    let sockets = Array(3..<(3 + count))
    for fd in sockets {
        guard isListeningSocket(fd) else {
            throw ThumbnailError(.misconfigured, "LISTEN_FDS", "fd \(fd) is not a listening socket")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    return sockets
}
