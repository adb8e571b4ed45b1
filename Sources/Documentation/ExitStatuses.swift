import ThumbnailCore

/// The rows both documents show: success, then `ThumbnailError.table` in its order.
private var statusRows: [(exit: Int32, http: Int, kept: String, meaning: String)] {
    [(0, 200, "yes", "Done")]
        + ThumbnailError.table.map { _, statuses in
            let kept = statuses.originFailure ? "no" : "\(ServerInvocation.defaultErrorMaxAge) s"
            return (statuses.exit, statuses.http, kept, statuses.meaning)
        }
}

/// The names sysexits(3) gives the statuses the table uses.
private let sysexitsNames: [Int32: String] = [
    0: "EX_OK", 64: "EX_USAGE", 65: "EX_DATAERR", 66: "EX_NOINPUT", 69: "EX_UNAVAILABLE", 70: "EX_SOFTWARE",
    73: "EX_CANTCREAT", 74: "EX_IOERR", 77: "EX_NOPERM", 78: "EX_CONFIG",
]

/// The man page's EXIT STATUS table.
func manualExitStatuses() -> String {
    let header = [".Bl -column \"Status\" \"EX_UNAVAILABLE\" \"HTTP\" \"no-store\" \"Meaning\"",
        ".It Sy Status Ta Sy Name Ta Sy HTTP Ta Sy Kept Ta Sy Meaning"]
    let rows = statusRows.map { row in
        ".It \(row.exit) Ta Dv \(sysexitsNames[row.exit] ?? "?") Ta \(row.http) Ta \(row.kept) Ta \(row.meaning)"
    }
    return (header + rows + [".El"]).map { $0 + "\n" }.joined()
}

/// The man page's sentence on `--batch --base`: which server status gives which exit status.
func manualServerStatuses() -> String {
    var groups: [(exit: Int32, http: [Int])] = []
    for (http, exit) in ThumbnailError.serverStatusExits {
        if let index = groups.firstIndex(where: { $0.exit == exit }) {
            groups[index].http.append(http)
        } else {
            groups.append((exit, [http]))
        }
    }
    let clauses = groups.map { group in
        "\(spoken(group.http.map(String.init))) give\(group.http.count == 1 ? "s" : "") \(group.exit)"
    }
    return """
        a server's answer gives the exit status:
        \(clauses.joined(separator: "; "));
        any other status, or no answer, gives \(ThumbnailError.otherServerStatusExit).

        """
}

/// README.md's table of exit statuses.
func readmeExitStatuses() -> String {
    let rows = statusRows.map { "| \(String($0.exit).padding(2)) | \($0.http) | \($0.meaning) |" }
    return (["| status | HTTP | meaning |", "|-------:|-----:|---------|"] + rows).map { $0 + "\n" }.joined()
}

/// `a`, `a and b`, `a, b and c`.
func spoken(_ items: [String]) -> String {
    items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
}

extension String {
    /// Padded with spaces on the right to `width`.
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
