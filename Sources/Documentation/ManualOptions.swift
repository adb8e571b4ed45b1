import ThumbnailCore

/// The man page's OPTIONS list: each option of `optionTable`, by long name,
/// with its flags and placeholder, its `manual` text, then its default, the
/// modes that take it and whether a `--config` file may set it.
func manualOptions() -> String {
    var lines = [".Bl -tag -width Ds"]
    for spec in optionTable.sorted(by: { $0.long < $1.long }) {
        let flags = (spec.short.map { ["Fl \($0)"] } ?? []) + ["Fl -\(spec.long)"]
        lines.append(".It " + flags.joined(separator: " , ") + (spec.value.map { " Ar " + $0 } ?? ""))
        lines.append(spec.manual)
        let facts = facts(spec)
        if !facts.isEmpty { lines += [".br"] + facts }
    }
    lines.append(".El")
    return lines.map { $0 + "\n" }.joined()
}

/// The mdoc lines after an option's text: `Default: ...`, `Modes: ...`, `Not in a --config file or the environment.`
private func facts(_ spec: OptionSpec) -> [String] {
    var lines: [String] = []
    switch spec.defaultValue {
    case .value(let value) where value.allSatisfy(\.isNumber): lines.append("Default: \(value).")
    case .value(let value): lines += ["Default:", ".Ql \(value) ."]
    case .words(let words): lines.append("Default: \(words).")
    case nil: break
    }
    // A mode option is its mode; --help and --version answer whatever else is given.
    if Mode(rawValue: spec.long) == nil {
        lines += ["Modes:", modes(spec.modes)]
        if !spec.configurable && spec.long != "config" { lines += ["Not in a", ".Fl -config", "file or the environment."] }
    }
    return lines
}

/// The modes an option works in, as a macro line: `.No all but Fl -sign .`
private func modes(_ modes: Set<Mode>) -> String {
    let working = Mode.allCases.filter { $0 != .help && $0 != .version }
    let named = { (mode: Mode) in mode == .render ? "No rendering" : "Fl -" + mode.rawValue }
    let missing = working.filter { !modes.contains($0) }
    if missing.isEmpty { return ".No all ." }
    if missing.count == 1 { return ".No all but " + named(missing[0]) + " ." }
    return "." + working.filter(modes.contains).map(named).joined(separator: " , ") + " ."
}

/// The man page's ENVIRONMENT table: each option's variable, the option and
/// its value, then the words a flag's variable takes.
func manualEnvironment() -> String {
    let specs = optionTable.filter { $0.environmentName != nil }.sorted { $0.long < $1.long }
    let widest = { (names: [String]) in names.max { $0.count < $1.count } ?? "" }
    var lines = [
        ".Bl -column \"\(widest(specs.compactMap(\.environmentName)))\" \"--\(widest(specs.map(\.long)))\" \"Value\"",
        ".It Sy Variable Ta Sy Option Ta Sy Value",
    ]
    for spec in specs {
        lines.append(".It Ev \(spec.environmentName!) Ta Fl -\(spec.long) Ta " + (spec.value.map { "Ar " + $0 } ?? "flag"))
    }
    // `.Ql 1 ,` `.Ql true` `or` `.Ql yes`: one word a line.
    let words = { (list: [String]) in
        list.dropLast(2).map { ".Ql \($0) ," } + [".Ql \(list[list.count - 2])", "or", ".Ql \(list.last!)"]
    }
    lines += [".El", ".Pp", "A flag's variable is"] + words(environmentFlagWords.on) + ["to set it, and"]
        + words(environmentFlagWords.off) + ["to leave it unset even where a", ".Fl -config", "file sets it, in capitals or not."]
    return lines.map { $0 + "\n" }.joined()
}
