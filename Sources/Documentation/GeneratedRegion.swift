import ThumbnailCore

/// A part of a committed file that `make docs` writes from the code's
/// tables, between a begin and an end marker line that stay in the file.
public struct GeneratedRegion: Sendable {
    /// The file, relative to the package directory.
    public let file: String
    public let name: String
    /// Its lines, each ending in a newline.
    public let text: String
    let style: CommentStyle

    var beginMarker: String {
        style.comment("\(name): written by make docs; edit Sources/Documentation or the tables it reads")
    }
    var endMarker: String { style.comment("end of \(name)") }

    /// `contents` with this region's lines replaced by `text`.
    public func apply(to contents: String) throws(DocumentationError) -> String {
        var lines = contents.split(separator: "\n", omittingEmptySubsequences: false)
        guard let begin = lines.firstIndex(where: { $0 == beginMarker }),
            let end = lines[begin...].firstIndex(where: { $0 == endMarker })
        else { throw .missingMarkers(file: file, region: name, begin: beginMarker) }
        lines.replaceSubrange(lines.index(after: begin)..<end, with: text.split(separator: "\n", omittingEmptySubsequences: false).dropLast())
        return lines.joined(separator: "\n")
    }
}

/// How a file of each kind writes a comment line.
enum CommentStyle: Sendable {
    case mdoc, shell, markdown

    func comment(_ text: String) -> String {
        switch self {
        case .mdoc: ".\\\" " + text
        case .shell: "# " + text
        case .markdown: "<!-- " + text + " -->"
        }
    }
}

public enum DocumentationError: Error, CustomStringConvertible, Equatable {
    case missingMarkers(file: String, region: String, begin: String)
    /// Options of `optionTable` without their man page text.
    case missingManual([String])

    public var description: String {
        switch self {
        case .missingMarkers(let file, let region, let begin):
            "\(file): no region '\(region)': put the line '\(begin)' where it goes and an end marker after it"
        case .missingManual(let options):
            "optionTable: " + options.map { "--" + $0 }.joined(separator: ", ")
                + " \(options.count == 1 ? "has" : "have") no manual text: write what the man page says of it in its `manual:`"
        }
    }
}

/// Every generated region of every file, from the tables as they are now.
public func generatedRegions() throws(DocumentationError) -> [GeneratedRegion] {
    let unwritten = optionTable.filter { $0.manual.isEmpty }.map(\.long)
    guard unwritten.isEmpty else { throw .missingManual(unwritten) }
    return [
        GeneratedRegion(file: manPage, name: "strings", text: manualStrings(), style: .mdoc),
        GeneratedRegion(file: manPage, name: "options", text: manualOptions(), style: .mdoc),
        GeneratedRegion(file: manPage, name: "environment", text: manualEnvironment(), style: .mdoc),
        GeneratedRegion(file: manPage, name: "exit statuses", text: manualExitStatuses(), style: .mdoc),
        GeneratedRegion(file: manPage, name: "server exit statuses", text: manualServerStatuses(), style: .mdoc),
        GeneratedRegion(file: "README.md", name: "exit statuses", text: readmeExitStatuses(), style: .markdown),
        GeneratedRegion(file: "examples/thumbnail.conf", name: "defaults", text: configDefaults(), style: .shell),
        GeneratedRegion(file: "completions/thumbnail.bash", name: "completion", text: bashCompletion(), style: .shell),
        GeneratedRegion(file: "completions/_thumbnail", name: "completion", text: zshCompletion(), style: .shell),
        GeneratedRegion(file: "completions/thumbnail.fish", name: "completion", text: fishCompletion(), style: .shell),
    ]
}

let manPage = "man/thumbnail.1"
