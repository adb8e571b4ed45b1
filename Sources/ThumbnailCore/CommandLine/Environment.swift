/// Configuration from `THUMBNAIL_<NAME>` variables, the way containers and
/// orchestrators hand it over: one for each option a `--config` file may
/// set, named from the option table, read between the file and the command
/// line. Secrets are never among them: a key or token is read from a file.
extension OptionSpec {
    /// The variable that would set it: `THUMBNAIL_MAX_BYTES` for `--max-bytes`.
    var variable: String { "THUMBNAIL_" + long.uppercased().replacing("-", with: "_") }

    /// Its variable; nil for an option that only the command line may give.
    package var environmentName: String? { configurable ? variable : nil }
}

/// The words a flag's variable takes, in any case.
package let environmentFlagWords = (on: ["1", "true", "yes"], off: ["0", "false", "no"])

/// Whether a variable's name says it holds a secret: its last word is
/// KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL, or their plural. A variable
/// that names the file a secret is in ends in FILE.
func soundsSecret(_ variable: String) -> Bool {
    let last = variable.uppercased().split(separator: "_").last ?? ""
    let word = last.hasSuffix("S") ? last.dropLast() : last
    return ["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"].contains(word)
}

/// What the `THUMBNAIL_*` variables of an environment set, checked.
struct EnvironmentSettings {
    /// Each option a variable sets, with the variable and its value; nil: a flag turned off.
    var values: [(spec: OptionSpec, variable: String, value: String?)] = []
    var failures: [ThumbnailError] = []

    init(_ environment: [String: String]) {
        let known = optionTable.compactMap { spec in spec.environmentName.map { ($0, spec) } }
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix("THUMBNAIL_") {
            if let spec = known.first(where: { $0.0 == variable })?.1 {
                guard spec.value == nil else {
                    values.append((spec, variable, value))
                    continue
                }
                switch value.lowercased() {
                case let word where environmentFlagWords.on.contains(word): values.append((spec, variable, ""))
                case let word where environmentFlagWords.off.contains(word): values.append((spec, variable, nil))
                default:
                    let words = (environmentFlagWords.on + environmentFlagWords.off).map { "'\($0)'" }
                    failures.append(
                        ThumbnailError(.usage, variable, "'\(value)' is not one of \(words.joined(separator: ", "))"))
                }
            } else if let problem = Self.unknown(variable, known: known.map(\.0)) {
                failures.append(problem)
            }
        }
    }

    /// The error for a variable of the prefix that no option has: a typo
    /// (THUMBNAIL_ROOOT) silently ignored would leave the default in force, and
    /// a secret's value would be where other processes can read it. Only
    /// Kubernetes' service links are left alone: a Service named thumbnail
    /// gives every pod THUMBNAIL_PORT, THUMBNAIL_PORT_8080_TCP and
    /// THUMBNAIL_SERVICE_HOST.
    private static func unknown(_ variable: String, known: [String]) -> ThumbnailError? {
        let upper = variable.uppercased()
        let name = upper.dropFirst("THUMBNAIL_".count)
        if name == "PORT" || name.hasPrefix("PORT_") || name.hasPrefix("SERVICE_") { return nil }
        if let option = optionTable.first(where: { !$0.configurable && $0.variable == upper }) {
            return ThumbnailError(.usage, variable, "--\(option.long) is given on the command line only")
        }
        if let near = known.min(by: { editDistance(upper, $0) < editDistance(upper, $1) }), editDistance(upper, near) <= 2 {
            return ThumbnailError(.usage, variable, "no such variable; did you mean \(near)?")
        }
        if soundsSecret(upper) {
            let files = known.filter { $0.hasSuffix("_FILE") && soundsSecret(String($0.dropLast("_FILE".count))) }
            return ThumbnailError(
                .usage, variable,
                "secrets are never read from the environment, which other processes can see; write it to a file "
                    + "and name the file in \(files.joined(separator: " or "))")
        }
        return ThumbnailError(.usage, variable, "no such variable; see ENVIRONMENT in thumbnail(1)")
    }
}
