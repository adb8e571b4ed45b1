#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one thumbnail cost its process: the wait for a render slot, each
/// phase, the CPU of every thread, and the peak memory. The HTTP modes send
/// it as `Server-Timing` and log it.
struct RenderCost {
    /// Milliseconds waiting for a render slot.
    var queue: Double
    var phases: RenderPhases
    /// Milliseconds from the slot to the encoded bytes.
    var total: Double
    /// Milliseconds of CPU, every thread of the process counted.
    var cpu: Double
    /// The process's peak resident memory during the render, in KiB.
    var peakKiB: Int?

    /// `Server-Timing` (W3C): each figure in milliseconds, one decimal.
    var serverTiming: String {
        [("queue", queue), ("fetch", phases.fetch), ("decode", phases.decode), ("resize", phases.resize),
         ("encode", phases.encode), ("total", total), ("cpu", cpu)]
            .map { "\($0.0);dur=\(tenths($0.1))" }.joined(separator: ", ")
    }
}

/// `12.3`: milliseconds to one decimal, the same on every machine.
func tenths(_ milliseconds: Double) -> String {
    let tenths = Int((milliseconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

/// Measures a render from `init` to `cost(queue:phases:)`. The peak memory
/// is the kernel's high-water mark, reset here (`clear_refs`) so that a
/// kept-alive connection's later renders are not charged its earlier ones.
/// A process that changed its user (`--user`) is undumpable and may not
/// reset it: there the figure is the process's peak so far, which is the
/// render's own for a process's first render and any that went higher.
struct CostMeter {
    private var clock = PhaseClock()
    private let cpuStart = processCPUNanoseconds()

    init() {
        let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            // "5": reset the peak resident set size to the current one.
            _ = write(fd, "5", 1)
            close(fd)
        }
    }

    mutating func cost(queue: Double, phases: RenderPhases) -> RenderCost {
        RenderCost(
            queue: queue, phases: phases, total: clock.lap(),
            cpu: Double(processCPUNanoseconds() - cpuStart) / 1e6, peakKiB: peakResidentKiB())
    }
}

private func processCPUNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// `VmHWM` of /proc/self/status, which has no size to read by.
private func peakResidentKiB() -> Int? {
    let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var status = [UInt8](repeating: 0, count: 8192)
    let count = status.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    let text = String(decoding: status.prefix(max(0, count)), as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
    return Int(line.dropFirst(6).trimmingSpaces.prefix { $0 != " " })
}
