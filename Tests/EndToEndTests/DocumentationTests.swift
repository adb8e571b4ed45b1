import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The man page and the three shell completions, which `make docs` writes in
/// part from `optionTable` (GeneratedDocumentationTests checks they are up to
/// date), as their programs read them: mandoc, bash, zsh and fish.
struct DocumentationTests {
    /// Options the man page already describes (SYNOPSIS,
    /// INETD OPERATION, BATCH MODE, Signatures) but that are not in
    /// `optionTable` yet. When one lands in the table, delete it here and
    /// list it under OPTIONS in man/thumbnail.1.
    static let describedAhead: Set<String> = []

    /// `--long`, and `-s` where there is a short form, for every option in the table.
    static let tableOptions = Set(optionTable.flatMap { spec in ["--" + spec.long] + (spec.short.map { ["-\($0)"] } ?? []) })

    @Test func manPageMentionsNoOtherOptions() throws {
        let page = try ManPage()
        for (line, flag) in page.flagMentions
        where !Self.tableOptions.contains(flag) && !Self.describedAhead.contains(flag) {
            Issue.record(
                "man/thumbnail.1:\(line) mentions \(flag), which is neither in optionTable nor in DocumentationTests.describedAhead")
        }
        let mentioned = Set(page.flagMentions.map(\.flag))
        for option in Self.describedAhead.sorted() {
            if Self.tableOptions.contains(option) {
                Issue.record(
                    "\(option) is in optionTable now: list it under OPTIONS in man/thumbnail.1 and delete it from DocumentationTests.describedAhead")
            }
            if !mentioned.contains(option) {
                Issue.record("\(option) is in DocumentationTests.describedAhead but man/thumbnail.1 never mentions it")
            }
        }
    }

    @Test(arguments: Shell.allCases)
    func completionOfValues(shell: Shell) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let work = scratch.file("work")
        try FileManager.default.createDirectory(atPath: work + "/photos", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: work + "/cat.jpg", contents: Data())
        let config = scratch.file("sizes.conf")
        try "root = photos\nsizes = 100x100, 200x200  # the site's two sizes\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let configWithoutSizes = scratch.file("plain.conf")
        try "root = photos\n# sizes = 1x1\n".write(toFile: configWithoutSizes, atomically: true, encoding: .utf8)
        let formats = Set(OutputFormat.allCases.map(\.rawValue))
        for (line, expected) in [
            ("thumbnail --for", ["--format", "--formats"]), ("thumbnail --format w", ["webp"]), ("thumbnail -f ", formats.sorted()),
            ("thumbnail -s ", []), ("thumbnail --sizes 64x64,128x128 -s ", ["64x64", "128x128"]),
            ("thumbnail --config \(config) -s ", ["100x100", "200x200"]),
            ("thumbnail --config \(config) --sizes 8x8 --size ", ["8x8"]),
            ("thumbnail --config \(configWithoutSizes) -s ", []), ("thumbnail -r ", ["photos"]),
            ("thumbnail -o ", ["cat.jpg", "photos"]), ("thumbnail -q ", []),
            ("thumbnail --gravity n", ["n", "ne", "nw"]), ("thumbnail --focal ", []),
        ] {
            #expect(try shell.complete(line, in: work) == Set(expected), "completions/\(shell.file): '\(line)'")
        }
    }

    @Test(arguments: Shell.allCases)
    func completionFileIsValidSyntax(shell: Shell) throws {
        let outcome = try runTool(shell.rawValue, shell.syntaxCheck + [shell.path])
        #expect(outcome.status == 0 && outcome.error.isEmpty, "completions/\(shell.file): \(outcome.error)")
    }

    @Test func manPageLintsClean() throws {
        let outcome = try runTool("mandoc", ["-Tlint", "-W", "warning", ManPage.path])
        // mandoc also reports on the system's manual database; only lines about this page count.
        let complaints = outcome.error.split(separator: "\n").filter { $0.contains("thumbnail.1:") }
        #expect(outcome.status == 0 && complaints.isEmpty, "mandoc -Tlint -W warning: \(complaints)")
    }

    /// A quote opened inside another (`.Pq Ql a , Ql b` nests the second
    /// `Ql` in the first) renders as ‘a, ‘b’’: every quote closes before the next opens.
    @Test func manPageQuotesAreNotNested() throws {
        let rendered = try runTool("mandoc", ["-T", "utf8", ManPage.path])
        #expect(rendered.status == 0)
        for (open, close) in [("‘", "’"), ("“", "”")] {
            var depth = 0
            var nested: [String] = []
            let text = String(decoding: rendered.output, as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for character in line {
                    if String(character) == open {
                        if depth > 0 { nested.append("line \(number + 1): \(line)") }
                        depth += 1
                    } else if String(character) == close {
                        depth = max(0, depth - 1)
                    }
                }
            }
            #expect(nested.isEmpty, "\(open)...\(close) nested: \(nested)")
        }
    }

    /// The rows themselves are checked against the table by StatusTableTests.
    @Test func exitStatusNamesAreThoseOfSysexits() throws {
        let page = try ManPage()
        let header = try String(contentsOfFile: "/usr/include/sysexits.h", encoding: .utf8)
        var sysexits: [String: Int32] = [:]
        for line in header.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 3, words[0] == "#define", let value = Int32(words[2]) { sysexits[String(words[1])] = value }
        }
        let rows = page.tableRows(in: "EXIT STATUS").filter { $0.1.count == 5 && $0.1[0] != "Sy Status" }
        #expect(rows.count == ThumbnailError.table.count + 1)
        for (line, cells) in rows {
            let status = Int32(cells[0]) ?? -1, name = cells[1].replacingOccurrences(of: "Dv ", with: "")
            #expect(sysexits[name] == status, "man/thumbnail.1:\(line): \(name) is \(sysexits[name].map(String.init) ?? "unknown") in sysexits.h")
        }
    }

    /// Runs every `$ ` command of EXAMPLES, as rendered, in one shell and in
    /// order, in a directory holding images/cat.jpg; each must exit 0 and
    /// print, on stdout and stderr together, exactly the lines shown after it.
    @Test func examplesRunAsShown() throws {
        let rendered = try runTool("mandoc", ["-Tascii", ManPage.path])
        #expect(rendered.status == 0)
        let examples = ManPage.examples(inRendered: ManPage.plainText(rendered.output))
        #expect(examples.count >= 8, "EXAMPLES: found only \(examples.count) commands")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // The modification time that EXAMPLES gives, which --picture's URLs carry.
        try sh(
            "mkdir images && convert -seed 7 -size 640x400 plasma: images/cat.jpg && touch -d @1700000000 images/cat.jpg",
            directory: scratch.path)
        let binDirectory = URL(fileURLWithPath: thumbnailBinary).deletingLastPathComponent().path
        var script = "PATH='\(binDirectory)':\"$PATH\"\n"
        for (index, example) in examples.enumerated() {
            script += "{\n\(example.command)\n} >out.\(index) 2>&1; echo $? >status.\(index)\n"
        }
        let run = try runProcess("/bin/sh", ["-c", script], directory: scratch.path, seconds: 120)
        #expect(run.status == 0, "\(run.error)")
        for (index, example) in examples.enumerated() {
            let read = { (name: String) in (try? String(contentsOfFile: scratch.file("\(name).\(index)"), encoding: .utf8)) ?? "" }
            #expect(read("status") == "0\n", "EXAMPLES: `\(example.command)` exited \(read("status")): \(read("out"))")
            #expect(read("out") == example.output.map { $0 + "\n" }.joined(), "EXAMPLES: `\(example.command)` printed other lines")
        }
    }
}

/// man/thumbnail.1, read as mdoc source.
struct ManPage {
    static let path = packageDirectory + "/man/thumbnail.1"
    let lines: [String]

    init() throws {
        lines = try String(contentsOfFile: Self.path, encoding: .utf8).components(separatedBy: "\n")
    }

    /// The lines of section `name`, numbered from 1 as in the file.
    func section(_ name: String) -> [(line: Int, text: String)] {
        let numbered = lines.enumerated().map { (line: $0.offset + 1, text: $0.element) }
        return Array(numbered.drop { $0.text != ".Sh \(name)" }.dropFirst().prefix { !$0.text.hasPrefix(".Sh ") })
    }

    /// The flags a macro line names: `.It Fl s , Fl -size Ar WxH` gives -s,
    /// --size; `.Fl -` (the end of options) names none.
    static func flags(_ text: String) -> [String] {
        guard text.hasPrefix(".") else { return [] }
        var flags: [String] = [], inFlag = false
        for token in text.dropFirst().replacingOccurrences(of: "\\-", with: "-").split(separator: " ") {
            if token == "Fl" {
                inFlag = true
            } else if token.first!.isUppercase, (2...3).contains(token.count) {
                inFlag = false  // another macro
            } else if inFlag, token != "-", let first = token.first, first == "-" || first.isLetter {
                flags.append("-" + token)
            }
        }
        return flags
    }

    /// Every flag named anywhere in the page, with its line.
    var flagMentions: [(line: Int, flag: String)] {
        lines.enumerated().flatMap { index, text in Self.flags(text).map { (index + 1, $0) } }
    }

    /// The cells of each `.It a Ta b Ta c` row of the column lists in section `name`.
    func tableRows(in name: String) -> [(line: Int, cells: [String])] {
        section(name).filter { $0.text.hasPrefix(".It ") && $0.text.contains(" Ta ") }.map { row in
            (row.line, row.text.dropFirst(4).components(separatedBy: " Ta "))
        }
    }

    /// mandoc's terminal output without its overstrike bold and underline.
    static func plainText(_ output: Data) -> String {
        var characters: [Character] = []
        for character in String(decoding: output, as: UTF8.self) {
            if character == "\u{8}" { characters.removeLast() } else { characters.append(character) }
        }
        return String(characters)
    }

    /// The commands of the rendered EXAMPLES section: each `$ ` line with the
    /// lines that follow it up to a blank line or the next command.
    static func examples(inRendered text: String) -> [(command: String, output: [String])] {
        let lines = text.components(separatedBy: "\n").drop { $0 != "EXAMPLES" }.dropFirst()
            .prefix { $0.isEmpty || $0.hasPrefix(" ") }
        var examples: [(command: String, output: [String])] = []
        var inExample = false
        for line in lines {
            let text = line.hasPrefix("     ") ? String(line.dropFirst(5)) : line
            if text.hasPrefix("$ ") {
                examples.append((String(text.dropFirst(2)), []))
                inExample = true
            } else if text.trimmingCharacters(in: .whitespaces).isEmpty {
                inExample = false
            } else if inExample {
                examples[examples.count - 1].output.append(text)
            }
        }
        return examples
    }
}

/// A shell whose completion for `thumbnail` is driven as the shell itself would.
enum Shell: String, CaseIterable, CustomTestStringConvertible {
    case bash, zsh, fish

    var file: String {
        switch self {
        case .bash: "thumbnail.bash"
        case .zsh: "_thumbnail"
        case .fish: "thumbnail.fish"
        }
    }

    var path: String { packageDirectory + "/completions/" + file }
    var testDescription: String { rawValue }

    /// The arguments that make the shell check a file's syntax without running it.
    var syntaxCheck: [String] {
        switch self {
        case .bash, .zsh: ["-n"]
        case .fish: ["--no-execute"]
        }
    }

    /// What the completion offers for the last word of `line` (the last
    /// space-separated word, empty after a trailing space), in `directory`;
    /// a directory's trailing slash dropped.
    func complete(_ line: String, in directory: String) throws -> Set<String> {
        let outcome: Outcome
        switch self {
        case .bash:
            // The function bash-completion would call: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set as bash sets them.
            let library = "/usr/share/bash-completion/bash_completion"
            try #require(FileManager.default.fileExists(atPath: library), "bash-completion is not installed: run make test-deps")
            let words = line.split(separator: " ", omittingEmptySubsequences: false).map { shellQuoted(String($0)) }
            let script = """
                source \(library)
                source \(shellQuoted(path))
                COMP_WORDS=(\(words.joined(separator: " "))) COMP_CWORD=\(words.count - 1)
                COMP_LINE=\(shellQuoted(line)) COMP_POINT=\(line.utf8.count)
                _thumbnail thumbnail "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            outcome = try runTool("bash", ["-c", script], directory: directory)
        case .zsh:
            let scratch = try ScratchDirectory()
            defer { scratch.remove() }
            try Self.zshHarness.write(toFile: scratch.file("harness.zsh"), atomically: true, encoding: .utf8)
            let run = try runTool(
                "zsh", ["-f", scratch.file("harness.zsh"), packageDirectory + "/completions", scratch.file("out"), line],
                directory: directory)
            #expect(run.status == 0, "zsh completion harness: \(run.error)")
            outcome = Outcome(status: run.status, output: (try? Data(contentsOf: URL(fileURLWithPath: scratch.file("out")))) ?? Data(), error: run.error)
        case .fish:
            outcome = try runTool(
                "fish", ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", path, line], directory: directory)
        }
        #expect(outcome.status == 0, "\(rawValue) completion of '\(line)': \(outcome.error)")
        let words = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").map { line in
            // fish prints `candidate<TAB>description`.
            String(line.prefix { $0 != "\t" })
        }
        return Set(words.filter { !$0.isEmpty }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }

    /// Completion only runs inside zsh's line editor, so this types the line
    /// and a TAB into an interactive zsh on a pseudo-terminal (zpty), with
    /// `compadd` wrapped to write every match it adds to a file.
    /// Arguments: the completions directory, the output file, the line.
    static let zshHarness = #"""
        zmodload zsh/zpty || exit 2
        dir=$1 out=$2 line=$3
        : >| $out
        zpty capture zsh -f -i
        zpty -w capture "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
        zpty -w capture "compadd() { if (( \${@[(I)-[OAD]]} )); then builtin compadd \"\$@\"; return; fi; local -a m; builtin compadd -O m \"\$@\"; (( \$#m )) && print -rl -- \$m >> ${(q)out}; builtin compadd \"\$@\"; }"
        zpty -w capture "comppostfuncs=( __done ); __done() { print >| ${(q)out}.done; }"
        zpty -w capture "bindkey '^I' complete-word"
        zpty -w -n capture "$line"$'\t'
        for i in {1..100}; do
          zpty -r -t capture junk 2>/dev/null
          [[ -e $out.done ]] && break
          sleep 0.1
        done
        zpty -d capture
        [[ -e $out.done ]] || { print "no completion after 10 seconds" >&2; exit 1 }
        """#
}

/// `text` in single quotes for sh, bash and zsh.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Runs a tool found on PATH; a missing tool fails the test (never skips it).
func runTool(_ name: String, _ arguments: [String], directory: String? = nil, seconds: Int = 30) throws -> Outcome {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    let tool = try #require(path, "\(name) is not installed: run make test-deps")
    return try runProcess(tool, arguments, directory: directory, seconds: seconds)
}
