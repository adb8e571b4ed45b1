import Foundation
import TestSupport
import Testing

/// What git tracks of the project.
struct RepositoryTests {
    /// The project speaks its own words: no tracked file points at a brief
    /// or tracker that its users do not have.
    @Test func noTrackedFileNamesTheDevelopersBrief() throws {
        let files = try sh("git -C '\(packageDirectory)' ls-files").split(separator: "\n")
        let words = ["SP" + "EC", "steer" + "ing"]
        let issue = try Regex("[Ii]ssue [0-9]")
        var found: [String] = []
        for file in files {
            guard let text = try? String(contentsOfFile: packageDirectory + "/" + file, encoding: .utf8) else { continue }
            if words.contains(where: text.contains) || text.contains(issue) { found.append(String(file)) }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
