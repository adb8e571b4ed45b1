import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

/// The version in VERSION, where `make deb` takes it from.
let packageVersion = (try? String(contentsOfFile: packageDirectory + "/VERSION", encoding: .utf8))?
    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "VERSION is unreadable"

/// `make deb`, lintian on its package, and the package installed with
/// apt-get, used and removed. One at a time: they share the .deb and dpkg.
@Suite(.serialized)
struct PackageTests {
    /// Runs `make deb` (the release build it needs is in .build-release) and returns the package's path.
    func buildPackage() throws -> String {
        let make = try runTool("make", ["--no-print-directory", "-C", packageDirectory, "deb"], seconds: 600)
        try #require(make.status == 0, "make deb: \(make.error)")
        let architecture = try sh("dpkg --print-architecture")
        let name = "thumbnail_\(packageVersion)_\(architecture).deb"
        // Its last line names the package, whether built now or up to date already.
        #expect(String(decoding: make.output, as: UTF8.self).hasSuffix("\n" + name + "\n") || make.output == Data((name + "\n").utf8))
        let path = packageDirectory + "/" + name
        try #require(FileManager.default.fileExists(atPath: path), "make deb made no \(path)")
        return path
    }

    /// apt-get as a script runs it, waiting for another dpkg to finish first.
    func aptGet(_ arguments: [String]) throws -> Outcome {
        try runProcess(
            "/usr/bin/env",
            ["DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-q"] + arguments,
            seconds: 400)
    }

    /// What bash offers for `line` through the completion bash-completion
    /// loads from where Debian keeps it, in a clean environment.
    func installedBashCompletion(_ line: String) throws -> [String] {
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map { shellQuoted(String($0)) }
        let script = """
            source /usr/share/bash-completion/bash_completion
            __load_completion thumbnail || exit 3
            function=$(complete -p thumbnail | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')
            COMP_WORDS=(\(words.joined(separator: " "))) COMP_CWORD=\(words.count - 1)
            COMP_LINE=\(shellQuoted(line)) COMP_POINT=\(line.utf8.count)
            "$function" thumbnail "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let outcome = try runProcess("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", "/bin/bash", "--norc", "-c", script])
        #expect(outcome.status == 0, "bash completion from /usr/share/bash-completion: \(outcome.error)")
        return String(decoding: outcome.output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func versionIsTheSameEverywhere() throws {
        #expect(toolVersion == packageVersion, "toolVersion in CommandLine/Command.swift is not VERSION's")
        let changelog = try runTool(
            "dpkg-parsechangelog", ["-l", packageDirectory + "/packaging/debian/changelog", "-S", "Version"])
        #expect(String(decoding: changelog.output, as: UTF8.self) == packageVersion + "\n",
            "the top entry of packaging/debian/changelog is not VERSION's")
        let version = try thumbnail(["--version"])
        #expect(String(decoding: version.output, as: UTF8.self).hasPrefix("thumbnail \(packageVersion)\n"))
    }

    @Test func lintianFindsNoErrorsOrWarnings() throws {
        let package = try buildPackage()
        let lintian = try runTool("lintian", ["--fail-on", "error,warning", package], seconds: 300)
        let report = String(decoding: lintian.output, as: UTF8.self)
        #expect(lintian.status == 0 && !report.contains("E: ") && !report.contains("W: "), "lintian: \(report)")
    }

    @Test func packageHoldsTheseFilesAndTheseFields() throws {
        let package = try buildPackage()
        let listing = try runTool("dpkg-deb", ["--contents", package])
        let files = String(decoding: listing.output, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("-") }.compactMap { $0.split(separator: " ").last.map { String($0.dropFirst()) } }
        let examples = try sh("cd examples && find . -type f | sort", directory: packageDirectory)
            .split(separator: "\n").map { "/usr/share/doc/thumbnail/examples" + $0.dropFirst() }
        let expected = [
            "/usr/bin/thumbnail", "/usr/share/man/man1/thumbnail.1.gz",
            "/usr/share/bash-completion/completions/thumbnail", "/usr/share/zsh/vendor-completions/_thumbnail",
            "/usr/share/fish/vendor_completions.d/thumbnail.fish", "/usr/share/doc/thumbnail/copyright",
            "/usr/share/doc/thumbnail/changelog.gz", "/lib/systemd/system/thumbnail.socket",
            "/lib/systemd/system/thumbnail@.service",
        ] + examples
        #expect(Set(files) == Set(expected))
        // The maintainer scripts that make and remove the user and the log directory, executable.
        let scripts = try sh("dpkg-deb --ctrl-tarfile '\(package)' | tar -tv")
        for script in ["./postinst", "./postrm"] {
            #expect(scripts.split(separator: "\n").contains { $0.hasPrefix("-rwxr-xr-x") && $0.hasSuffix(" " + script) }, "\(scripts)")
        }

        func field(_ name: String) throws -> String { try sh("dpkg-deb --field '\(package)' \(name)") }
        #expect(try field("Version") == packageVersion)
        #expect(try field("Description").contains("AVIF image"))
        // dpkg-shlibdeps found the libraries the binary is linked with; the control file names those it loads.
        let depends = try field("Depends")
        for library in ["libmagickwand-6.q16-6", "libwebp7", "libssl3", "libc6", "libheif1", "libtiff6"] {
            #expect(depends.contains(library), "Depends: \(depends)")
        }
        // The shipped examples name the binary where the package puts it.
        let service = try sh(
            "dpkg-deb --fsys-tarfile '\(package)' | tar -xO ./usr/share/doc/thumbnail/examples/systemd/thumbnail@.service")
        #expect(service.contains("ExecStart=/usr/bin/thumbnail ") && !service.contains("/usr/local"))
        let unit = try sh("dpkg-deb --fsys-tarfile '\(package)' | tar -xO ./lib/systemd/system/thumbnail@.service")
        #expect(unit.contains("ExecStart=/usr/bin/thumbnail ") && unit.contains("User=thumbnail\n"))
    }

    /// Installed for real, then removed and purged: only when that leaves the
    /// machine as it was, so with root and no user `thumbnail` of its own.
    @Test(
        .enabled(if: getuid() == 0, "installing the package needs root: run make test as root"),
        .enabled(if: getpwnam("thumbnail") == nil && getgrnam("thumbnail") == nil, "a user or group thumbnail exists already"),
        .enabled(if: !FileManager.default.fileExists(atPath: "/var/log/thumbnail"), "/var/log/thumbnail exists already"))
    func installedPackageWorksAndRemovesWithoutATrace() throws {
        let package = try buildPackage()
        let install = try aptGet(["install", "--reinstall", "--no-install-recommends", package])
        defer { _ = try? aptGet(["purge", "thumbnail"]) }
        try #require(install.status == 0, "apt-get install: \(install.error)")
        let listing = try sh("dpkg -L thumbnail")
        let files = listing.split(separator: "\n").map(String.init).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        #expect(files.contains("/usr/bin/thumbnail"), "dpkg -L thumbnail: \(listing)")
        // postinst made the user and the log directory it owns, and enabled nothing.
        let user = try #require(getpwnam("thumbnail"), "no user thumbnail")
        #expect(user.pointee.pw_uid < 1000 && String(cString: user.pointee.pw_dir) == "/nonexistent")
        let owner = try FileManager.default.attributesOfItem(atPath: "/var/log/thumbnail")[.ownerAccountName] as? String
        #expect(owner == "thumbnail")
        #expect(files.contains("/lib/systemd/system/thumbnail.socket"))
        let enabled = try sh("find /etc/systemd -name 'thumbnail*' 2>/dev/null; true")
        #expect(enabled.isEmpty, "enabled: \(enabled)")

        let version = try runProcess("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", "thumbnail", "--version"])
        #expect(String(decoding: version.output, as: UTF8.self).hasPrefix("thumbnail \(packageVersion)\n"), "\(version.error)")
        let pages = try runTool("man", ["-aw", "thumbnail"])
        #expect(String(decoding: pages.output, as: UTF8.self).contains("/usr/share/man/man1/thumbnail.1.gz"), "\(pages.error)")
        #expect(try installedBashCompletion("thumbnail --for") == ["--format", "--formats"])
        // zsh looks where the package put its completion; fish loads it from there.
        let home = try ScratchDirectory()
        defer { home.remove() }
        let clean = ["-i", "PATH=/usr/bin:/bin", "HOME=" + home.path]
        let fpath = try runProcess("/usr/bin/env", clean + ["zsh", "-f", "-c", "print -rl -- $fpath"])
        #expect(String(decoding: fpath.output, as: UTF8.self).split(separator: "\n").contains("/usr/share/zsh/vendor-completions"))
        let fish = try runProcess("/usr/bin/env", clean + ["fish", "-c", "complete -C 'thumbnail --for'"])
        #expect(String(decoding: fish.output, as: UTF8.self).hasPrefix("--format\t"), "fish: \(fish.error)")

        let remove = try aptGet(["remove", "thumbnail"])
        #expect(remove.status == 0, "apt-get remove: \(remove.error)")
        for file in files { #expect(!FileManager.default.fileExists(atPath: file), "apt-get remove left \(file)") }
        #expect(!FileManager.default.fileExists(atPath: "/usr/share/doc/thumbnail"))
        // Removed, the user and its log stay, as for any Debian package, until the purge.
        #expect(getpwnam("thumbnail") != nil && FileManager.default.fileExists(atPath: "/var/log/thumbnail"))
        let purge = try aptGet(["purge", "thumbnail"])
        #expect(purge.status == 0, "apt-get purge: \(purge.error)")
        #expect(getpwnam("thumbnail") == nil && getgrnam("thumbnail") == nil, "purge left the user or its group")
        #expect(!FileManager.default.fileExists(atPath: "/var/log/thumbnail"))
        // dpkg forgets it, or calls it not-installed.
        let status = try runProcess("/usr/bin/dpkg-query", ["-W", "-f", "${Status}", "thumbnail"])
        let state = String(decoding: status.output, as: UTF8.self)
        #expect(state.isEmpty || state.hasSuffix(" not-installed"), "dpkg-query: \(state)")
    }
}
