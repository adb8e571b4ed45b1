#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The processors this process may use, counted once: those its CPU affinity
/// allows (`taskset`, a cpuset), fewer when its cgroup's CPU quota (a
/// container's `--cpus`, a pod's CPU limit) gives less time than that,
/// rounded up, as the Go and Java runtimes count them. The default of
/// `--jobs` and `--max-renders`, and the threads they share.
let usableCores: Int = {
    let allowed = affinityProcessors() ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let quota = cgroupCPUQuota().map { Int($0.rounded(.up)) }
    return max(1, min(allowed, quota ?? allowed))
}()

/// How many processors the CPU affinity allows, from /proc/self/status's
/// `Cpus_allowed_list` (`0-3,8`); nil when it cannot be read.
func affinityProcessors() -> Int? {
    guard let status = try? readFile("/proc/self/status", limit: 1 << 16) else { return nil }
    let prefix = "Cpus_allowed_list:"
    guard let line = String(decoding: status, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix(prefix) })
    else { return nil }
    var count = 0
    for range in line.dropFirst(prefix.count).trimmingSpaces.split(separator: ",") {
        let parts = range.split(separator: "-")
        let ends = parts.compactMap { Int(String($0)) }
        guard ends.count == parts.count, ends.count <= 2, let low = ends.first, let high = ends.last, high >= low
        else { return nil }
        count += high - low + 1
    }
    return count > 0 ? count : nil
}

/// The CPU time the process's cgroup and those above it allow, in
/// processors: the smallest quota over period among them, nil when none is
/// set. cgroup v2's `cpu.max`, else v1's `cpu.cfs_quota_us`. A container
/// sees its own group at the root of the mount, whatever path
/// /proc/self/cgroup names, so the root counts too.
func cgroupCPUQuota() -> Double? {
    guard let membership = try? readFile("/proc/self/cgroup", limit: 1 << 16) else { return nil }
    var quotas: [Double] = []
    for line in String(decoding: membership, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { continue }
        let (controllers, path) = (fields[1].split(separator: ","), String(fields[2]))
        if controllers.isEmpty {
            for directory in selfAndAncestors("/sys/fs/cgroup", path) {
                let words = firstLine(directory + "/cpu.max")?.split(separator: " ") ?? []
                if words.count == 2, let quota = Double(words[0]), let period = Double(words[1]), period > 0 {
                    quotas.append(quota / period)
                }
            }
        } else if controllers.contains("cpu") {
            for directory in selfAndAncestors("/sys/fs/cgroup/" + controllers.joined(separator: ","), path) {
                if let quota = firstLine(directory + "/cpu.cfs_quota_us").flatMap({ Double($0) }), quota > 0,
                    let period = firstLine(directory + "/cpu.cfs_period_us").flatMap({ Double($0) }), period > 0
                {
                    quotas.append(quota / period)
                }
            }
        }
    }
    return quotas.min()
}

/// `mount` + `path`, then each directory above it up to `mount`.
private func selfAndAncestors(_ mount: String, _ path: String) -> [String] {
    let segments = path.split(separator: "/")
    return (0...segments.count).reversed().map { count in
        ([mount] + segments.prefix(count).map(String.init)).joined(separator: "/")
    }
}

/// A small kernel file's first line, nil if it cannot be read.
private func firstLine(_ path: String) -> String? {
    (try? readFile(path, limit: 4096)).map { String(decoding: $0, as: UTF8.self).prefix { $0 != "\n" } }.map(String.init)
}
