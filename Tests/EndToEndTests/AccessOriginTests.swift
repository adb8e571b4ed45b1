import Foundation
import TestSupport
import Testing

/// Access control as a CDN meets it: a real xinetd on a loopback port runs
/// the built binary with a config that names a key file, an origin token
/// file and a size list; curl is the client.
final class AccessOriginTests {
    let scratch: ScratchDirectory
    let port: Int
    let origin: XinetdOrigin
    let keys: String
    let newKey = "new-key-0123456789abcdef"
    let oldKey = "old-key-0123456789abcdef"
    let token = "origin-token-0123456789"

    init() throws {
        scratch = try ScratchDirectory()
        try makeFixtures(in: scratch)
        mkfifo(scratch.file("fifo.jpg"), 0o644)
        keys = try writeFile("\(newKey)\n\(oldKey)\n", "keys", in: scratch)
        let tokenFile = try writeFile(token + "\n", "token", in: scratch)
        origin = try XinetdOrigin(
            root: scratch.path, directory: scratch.path,
            extraConfig: "key-file = \(keys)\norigin-token-file = \(tokenFile)\nsizes = 100x100, x64\n")
        port = origin.port
    }

    deinit {
        origin.daemon.stop()
        scratch.remove()
    }

    /// `thumbnail --sign` with both keys, or with `key` alone.
    func signed(_ path: String, key: String? = nil) throws -> String {
        let file = try key.map { try writeFile($0 + "\n", "one-key", in: scratch) } ?? keys
        let outcome = try thumbnail(["--key-file", file, "--sign", path])
        #expect(outcome.status == 0, "\(outcome.error)")
        return String(decoding: outcome.output, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    /// curl's status and redirect for `path`, with `headers`; the body is saved in `body`.
    func get(_ path: String, headers: [String]) throws -> (status: String, location: String) {
        let options = headers.map { " -H '\($0)'" }.joined()
        let written = try sh(
            "curl -sS --max-time 20\(options) -o '\(scratch.file("body"))' -w '%{http_code} %{redirect_url}'"
                + " 'http://127.0.0.1:\(port)\(path)'")
        let parts = written.split(separator: " ", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "")
    }

    func get(_ path: String) throws -> (status: String, location: String) {
        try get(path, headers: ["X-Origin-Token: \(token)"])
    }

    var body: Data { (try? Data(contentsOf: URL(fileURLWithPath: scratch.file("body")))) ?? Data() }

    @Test func theOriginTokenMissingWrongAndRight() throws {
        let path = try signed("/thumbnail/100x100/landscape.jpg")
        for headers in [
            [], ["X-Origin-Token: wrong-token-0123456789"], ["X-Origin-Token: \(token)x"], ["X-Origin-Token;"],
            ["X-Other: \(token)"], ["X-Origin-Token: \(token)", "X-Origin-Token: \(token)"],
        ] {
            let reply = try get(path, headers: headers)
            #expect(reply.status == "403", "\(headers)")
            #expect(String(decoding: body, as: UTF8.self) == "403 Forbidden\n")
        }
        // Field names are case-insensitive.
        #expect(try get(path, headers: ["x-origin-token: \(token)"]).status == "200")
        #expect(try get(path).status == "200")
        #expect(body == (try thumbnail(["-r", scratch.path, "/thumbnail/100x100/landscape.jpg"])).output)
        #expect(try get("/healthz", headers: []).status == "200", "a health check needs no token")
        // The token is checked before anything else: nothing else is revealed without it.
        #expect(try get("/favicon.ico", headers: []).status == "403")
    }

    @Test func onlySignedPathsAreServed() throws {
        let path = try signed("/thumbnail/x64/webp/portrait.png")
        #expect(try get(path).status == "200")
        #expect(body == (try thumbnail(["-r", scratch.path, "/thumbnail/x64/webp/portrait.png"])).output)
        #expect(try get("/thumbnail/x64/webp/portrait.png").status == "403")
        var characters = Array(path)
        for offset in ["/thumbnail/".count, "/thumbnail/".count + 21, path.count - 1] {
            characters = Array(path)
            characters[offset] = characters[offset] == "A" ? "B" : "A"
            #expect(try get(String(characters)).status == "403", "\(String(characters))")
        }
        #expect(try get(path.replacingOccurrences(of: "x64", with: "x65")).status == "403")
    }

    @Test func anOldKeyStillVerifies() throws {
        let old = try signed("/thumbnail/100x100/landscape.jpg", key: oldKey)
        #expect(old != (try signed("/thumbnail/100x100/landscape.jpg")))
        #expect(try get(old).status == "200", "a canonical path signed with the old key is served as it is")
        #expect(try get(try signed("/thumbnail/100x100/landscape.jpg", key: "retired-key-0123456789")).status == "403")
    }

    @Test func aSignedNonCanonicalPathRedirectsToTheSignedCanonicalOne() throws {
        let signature = try opensslSignature("/100x100,q80/jpg/landscape.jpg", key: Array(oldKey.utf8), scratch: scratch)
        let reply = try get("/thumbnail/\(signature)/100x100,q80/jpg/landscape.jpg")
        #expect(reply.status == "301")
        let canonical = try signed("/thumbnail/100x100/jpeg/landscape.jpg")
        #expect(reply.location == "http://127.0.0.1:\(port)\(canonical)")
        #expect(try get(canonical).status == "200")
        // Without a valid signature there is no redirect to sign it.
        #expect(try get("/thumbnail/AAAAAAAAAAAAAAAAAAAAAA/100x100,q80/jpg/landscape.jpg").status == "403")
        #expect(try get("/thumbnail/100x100,q80/jpg/landscape.jpg").status == "403")
    }

    @Test func aSizeOffTheListIsRefusedBeforeTheSourceIsOpened() throws {
        // Signed without the size list, so only the list refuses it. Opening
        // the FIFO would block the origin past curl's time limit.
        let started = Date()
        #expect(try get(try signed("/thumbnail/200x200/fifo.jpg")).status == "403")
        #expect(try get(try signed("/thumbnail/64x/landscape.jpg")).status == "403")
        #expect(try get(try signed("/thumbnail/100x100,crop,q70/png/landscape.jpg")).status == "200")
        #expect(Date().timeIntervalSince(started) < 15)
    }
}
