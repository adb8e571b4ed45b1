import ThumbnailCore

// The shell completions' option lists, from `optionTable`: each option with
// its short form, its help line and what its value completes with. The
// files' hand-written parts (how `--sizes` is found) stay above the region.

/// `-s` and `--size`, or `--crop` alone.
private func flags(_ spec: OptionSpec) -> [String] {
    (spec.short.map { ["-\($0)"] } ?? []) + ["--" + spec.long]
}

/// `words` as space-separated lines of at most `width` columns, joined by `separator`.
private func wrapped(_ words: [String], width: Int, separator: String) -> String {
    var lines: [[String]] = [[]]
    for word in words {
        if !lines[lines.count - 1].isEmpty, (lines[lines.count - 1] + [word]).joined(separator: " ").count > width {
            lines.append([])
        }
        lines[lines.count - 1].append(word)
    }
    return lines.map { $0.joined(separator: " ") }.joined(separator: separator)
}

/// The `_thumbnail` function that bash-completion calls.
func bashCompletion() -> String {
    let valued = optionTable.filter { $0.value != nil }
    var cases: [String] = []
    func add(_ specs: [OptionSpec], _ body: String) {
        guard !specs.isEmpty else { return }
        let alternatives = specs.flatMap(flags).flatMap { ["|", $0] }.dropFirst()
        let pattern = wrapped(Array(alternatives), width: 90, separator: " \\\n            ")
        cases.append("        \(pattern))\n\(body)\n            return\n            ;;")
    }
    for spec in valued {
        guard case .words(let words) = spec.completion else { continue }
        add([spec], "            COMPREPLY=($(compgen -W '\(words.joined(separator: " "))' -- \"$cur\"))")
    }
    add(
        valued.filter { $0.completion == .allowedSizes },
        "            COMPREPLY=($(compgen -W \"$(_thumbnail_sizes)\" -- \"$cur\"))")
    add(valued.filter { $0.completion == .files }, "            _filedir")
    add(valued.filter { $0.completion == .directories }, "            _filedir -d")
    add(valued.filter { $0.completion == .anything }, "            # the user's own value")
    let everyFlag = wrapped(optionTable.flatMap(flags), width: 80, separator: "\n            ")
    return """
        _thumbnail()
        {
            local cur prev words cword split
            _init_completion -s || return

            case $prev in
        \(cases.joined(separator: "\n"))
            esac
            $split && return

            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W '\(everyFlag)' -- "$cur"))
                return
            fi
            _filedir
        } &&
            complete -F _thumbnail thumbnail

        """
}

/// `text` inside single quotes for zsh and bash: `'` becomes `'"'"'`.
private func singleQuoted(_ text: String) -> String {
    "'" + text.replacing("'", with: "'\"'\"'") + "'"
}

/// The `_arguments` call of zsh's `_thumbnail`.
func zshCompletion() -> String {
    let specs = optionTable.map { spec in
        // --help and --version answer whatever else is given: nothing follows them.
        let exclusive = spec.modes == [.help] || spec.modes == [.version]
        let exclusion = exclusive ? "(- *)" : spec.short == nil ? "" : "(" + flags(spec).joined(separator: " ") + ")"
        let description = "[" + spec.help.replacing("[", with: "\\[").replacing("]", with: "\\]") + "]"
        var tail = description
        if let value = spec.value {
            let message = (value + (spec.defaultValue.map { " " + $0.help } ?? "")).replacing(":", with: "\\:")
            let action: String =
                switch spec.completion {
                case .anything: ""
                case .files: "_files"
                case .directories: "_directories"
                case .allowedSizes: "_thumbnail_sizes"
                case .words(let words): "(" + words.joined(separator: " ") + ")"
                }
            tail += ":" + message + ":" + action
        }
        let equals = spec.value == nil ? "" : "="
        let body =
            if let short = spec.short {
                singleQuoted(exclusion) + "{-\(short)\(spec.value == nil ? "" : "+"),--\(spec.long)\(equals)}"
                    + singleQuoted(tail)
            } else {
                singleQuoted(exclusion + "--" + spec.long + equals + tail)
            }
        return "  " + body + " \\"
    }
    return "_arguments -s -S \\\n" + specs.joined(separator: "\n") + "\n  '*:source file, thumbnail path or -:_files'\n"
}

/// fish's `complete` lines.
func fishCompletion() -> String {
    optionTable.map { spec in
        var line = "complete -c thumbnail" + (spec.short.map { " -s \($0)" } ?? "") + " -l " + spec.long
        if spec.value != nil {
            switch spec.completion {
            case .anything: line += " -x"
            case .files: line += " -r -F"
            case .directories: line += " -x -a '(__fish_complete_directories)'"
            case .allowedSizes: line += " -x -a '(__thumbnail_sizes)'"
            case .words(let words): line += " -x -a '\(words.joined(separator: " "))'"
            }
        }
        let description = spec.help + (spec.defaultValue.map { " " + $0.help } ?? "")
        return line + " -d '" + description.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'\n"
    }.joined()
}
