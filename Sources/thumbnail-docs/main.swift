// `make docs`: writes the generated regions of the man page, the README and
// the shell completions from the code's tables. Run from the package directory.
import Documentation
import Foundation

do {
    let regions = try generatedRegions()
    for file in Set(regions.map(\.file)).sorted() {
        let old = try String(contentsOfFile: file, encoding: .utf8)
        var new = old
        for region in regions where region.file == file { new = try region.apply(to: new) }
        if new != old {
            try new.write(toFile: file, atomically: true, encoding: .utf8)
            print("wrote \(file)")
        }
    }
} catch {
    FileHandle.standardError.write(Data("thumbnail-docs: \(error)\n".utf8))
    exit(1)
}
