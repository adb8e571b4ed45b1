import Foundation
import TestSupport
import Testing

@testable import ThumbnailCore

final class AccessTests {
    let scratch: ScratchDirectory
    let newKey = Array("new key: \u{e9}t\u{e9} $'\"\\ `x` 2025".utf8)
    let oldKey = Array("old-key-0123456789abcdef".utf8)

    init() throws { scratch = try ScratchDirectory() }
    deinit { scratch.remove() }

    @Test(arguments: [
        "/100x100/a.png", "/300x200,crop,q70/jpeg/a/b.png", "/x64/avif/logo%20(1).png", "/1x1/gif/%E2%82%AC.png",
    ])
    func signaturesMatchOpenSSL(signed: String) throws {
        let access = Access(keys: [newKey, oldKey])
        let path = try access.signedPath("/thumbnail" + signed)
        let expected = try opensslSignature(signed, key: newKey, scratch: scratch)
        #expect(expected.count == 22)
        #expect(path == "/thumbnail/" + expected + signed)
        #expect(try access.check(path: path).checkedRequest() == (try PathGrammar().parse("/thumbnail" + signed)))
    }

    @Test func plainKeyMatchesOpenSSLHmacOption() throws {
        let signature = try sh(
            "printf '%s' /100x100/a.png | openssl dgst -sha256 -hmac first-key-0123456789 -binary"
                + " | head -c 16 | base64 | tr '+/' '-_' | tr -d '='")
        let access = Access(keys: [Array("first-key-0123456789".utf8)])
        #expect(try access.signedPath("/thumbnail/100x100/a.png") == "/thumbnail/\(signature)/100x100/a.png")
    }

    @Test func rotationOldKeyVerifiesNewKeySigns() throws {
        let before = Access(keys: [oldKey])
        let during = Access(keys: [newKey, oldKey])
        let after = Access(keys: [newKey])
        let oldPath = try before.signedPath("/thumbnail/100x100/a.png")
        let newPath = try during.signedPath("/thumbnail/100x100/a.png")
        #expect(oldPath != newPath)
        #expect(newPath == (try after.signedPath("/thumbnail/100x100/a.png")))
        #expect(during.check(path: oldPath).notes.first == "signature: ok (key 2 of 2)")
        #expect(during.check(path: newPath).notes.first == "signature: ok (key 1 of 2)")
        #expect(after.check(path: oldPath).refusal?.kind == .forbidden)
        #expect(before.check(path: newPath).refusal?.kind == .forbidden)
        // --sign re-signs an old path with the first key, without checking the old signature.
        #expect(try during.signedPath(oldPath) == newPath)
    }

    @Test func anyOneCharacterChangeIsRefused() throws {
        let access = Access(keys: [newKey])
        let path = try access.signedPath("/thumbnail/120x80,crop,q70/webp/photos/cat.jpg")
        let replacements: [Character] = ["a", "B", "7"]
        var tried = 0
        for offset in 0..<path.count {
            var characters = Array(path)
            characters[offset] = replacements.first { $0 != characters[offset] }!
            let changed = String(characters)
            let refusal = access.check(path: changed).refusal
            // Past the prefix every change breaks the signature; in the prefix, it is no thumbnail path.
            #expect(refusal?.kind == (offset < "/thumbnail/".count ? .notFound : .forbidden), "\(changed)")
            tried += 1
        }
        #expect(tried == path.count)
        let dropped = path.dropLast()
        #expect(access.check(path: String(dropped)).refusal?.kind == .forbidden)
        #expect(access.check(path: path + "x").refusal?.kind == .forbidden)
        #expect(access.check(path: path + "?v=2").refusal == nil, "the query is not part of the path")
    }

    @Test func theSignatureCoversTheRawTextNotTheDecodedRequest() throws {
        let access = Access(keys: [newKey])
        let canonical = try access.signedPath("/thumbnail/100x100/jpeg/cat.jpg")
        let signature = canonical.split(separator: "/")[1]
        // Same request, other spellings: each needs its own signature.
        for other in ["/100x100/jpeg/c%61t.jpg", "/100x100,q80/jpeg/cat.jpg", "/100x100,bgFFFFFF/jpg/cat.jpg"] {
            #expect(access.check(path: "/thumbnail/\(signature)\(other)").refusal?.kind == .forbidden, "\(other)")
            let signed = "/thumbnail/" + (try opensslSignature(other, key: newKey, scratch: scratch)) + other
            #expect(try access.check(path: signed).checkedRequest() == (try access.check(path: canonical).checkedRequest()))
            #expect(try access.signedPath(signed) == canonical)
        }
    }

    @Test(arguments: [
        ("/thumbnail/100x100/a.png", ThumbnailError(.forbidden, "/100x100/a.png", "no signature segment; --key-file requires one")),
        ("/thumbnail/AAAAAAAAAAAAAAAAAAAAAA/100x100/a.png", ThumbnailError(.forbidden, "AAAAAAAAAAAAAAAAAAAAAA", "wrong signature for /100x100/a.png")),
        ("/thumbnail/AAAAAAAAAAAAAAAAAAAAA/100x100/a.png", ThumbnailError(.forbidden, "/AAAAAAAAAAAAAAAAAAAAA/100x100/a.png", "no signature segment; --key-file requires one")),
    ])
    func missingOrWrongSignature(path: String, error: ThumbnailError) {
        #expect(Access(keys: [newKey]).check(path: path).refusal == error)
    }

    @Test func withoutKeysASignatureSegmentIsABadPath() {
        let refusal = Access().check(path: "/thumbnail/AAAAAAAAAAAAAAAAAAAAAA/100x100/a.png").refusal
        #expect(refusal == ThumbnailError(.badPath, "AAAAAAAAAAAAAAAAAAAAAA", "a signature segment, but no --key-file is configured"))
        #expect(thrown { _ = try PathGrammar().parse("/thumbnail/AAAAAAAAAAAAAAAAAAAAAA/100x100/a.png") }?.kind == .badPath)
    }

    @Test func aWrongSignatureIsTheRefusalEvenWhenTheGrammarIsAlsoBroken() {
        let refusal = Access(keys: [newKey]).check(path: "/thumbnail/AAAAAAAAAAAAAAAAAAAAAA/0x0,zoom/a.png").refusal
        #expect(refusal?.kind == .forbidden)
    }

    @Test func theFlagsFormIsRefusedWhenKeysAreConfigured() throws {
        let request = ThumbnailRequest(size: BoxSize(width: 10, height: 10), source: try SourcePath(filePath: "a.png"))
        #expect(Access(keys: [newKey]).check(flags: request).refusal?.kind == .forbidden)
        #expect(Access().check(flags: request).refusal == nil)
        let sizes = Access(allowedSizes: [BoxSize(width: 20, height: 20)])
        #expect(sizes.check(flags: request).refusal == ThumbnailError(.forbidden, "10x10", "size not allowed (--sizes 20x20)"))
    }

    @Test func allowedSizes() throws {
        let access = Access(allowedSizes: [BoxSize(width: 100, height: 100), BoxSize(width: nil, height: 64)])
        for allowed in ["/thumbnail/100x100/a.png", "/thumbnail/100x100,crop,q70/webp/a.png", "/thumbnail/x64/a.png"] {
            #expect(access.check(path: allowed).refusal == nil, "\(allowed)")
        }
        for refused in ["/thumbnail/100x/a.png", "/thumbnail/64x/a.png", "/thumbnail/101x100/a.png", "/thumbnail/x65/a.png"] {
            #expect(access.check(path: refused).refusal?.kind == .forbidden, "\(refused)")
            #expect(access.check(path: refused).refusal?.httpStatus == 403)
            #expect(access.check(path: refused).refusal?.exitStatus == 77)
        }
        let signing = Access(allowedSizes: [BoxSize(width: 100, height: 100)], keys: [newKey])
        #expect(thrown { _ = try signing.signedPath("/thumbnail/50x50/a.png") }?.kind == .forbidden)
    }

    @Test func signingNeedsAKey() {
        #expect(thrown { _ = try Access().signedPath("/thumbnail/50x50/a.png") } == ThumbnailError(.usage, "--sign", "needs --key-file"))
    }

    @Test func originToken() {
        let token = Array("s3cret-origin-token-value".utf8)
        let access = Access(originToken: token, originTokenHeader: "X-From-CDN")
        #expect(thrown { try access.checkOriginToken([]) } == ThumbnailError(.forbidden, "X-From-CDN", "missing origin token header"))
        for wrong in ["", "s3cret-origin-token-valuE", "s3cret-origin-token-value ", "s3cret-origin-token-valu", "x"] {
            #expect(thrown { try access.checkOriginToken([wrong]) } == ThumbnailError(.forbidden, "X-From-CDN", "wrong origin token"))
        }
        #expect(thrown { try access.checkOriginToken(["s3cret-origin-token-value"]) } == nil)
        let twice = ["s3cret-origin-token-value", "s3cret-origin-token-value"]
        #expect(thrown { try access.checkOriginToken(twice) } == ThumbnailError(.forbidden, "X-From-CDN", "repeated origin token header"))
        #expect(thrown { try Access().checkOriginToken([]) } == nil, "no token configured: nothing required")
    }

    @Test func base64URLFollowsRFC4648() {
        // RFC 4648 §10 vectors, without padding, and the two characters base64url changes.
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors { #expect(base64URL(Array(plain.utf8)) == encoded) }
        #expect(base64URL([0xfb, 0xff, 0xbf]) == "-_-_")
    }

    /// Its timing is libcrypto's (CRYPTO_memcmp); what is tested here is that
    /// every byte counts, whichever differs, and the length too.
    @Test func constantTimeEqualComparesEveryByte() throws {
        let mac = Array(0..<UInt8(22))
        #expect(try constantTimeEqual(mac, mac))
        for index in mac.indices {
            for flip: UInt8 in [0x01, 0x80] {
                var other = mac
                other[index] ^= flip
                #expect(try !constantTimeEqual(mac, other), "byte \(index) ignored")
            }
        }
        #expect(try !constantTimeEqual(mac, Array(mac.dropLast())))
        #expect(try !constantTimeEqual(mac, mac + [0]))
        #expect(try constantTimeEqual([], []))
    }

    @Test func keyFiles() throws {
        let keys = try writeFile("\(String(decoding: newKey, as: UTF8.self))\n\n\(String(decoding: oldKey, as: UTF8.self))\n", "keys", in: scratch)
        #expect(try readKeys(keys) == [newKey, oldKey])
        chmod(keys, 0o400)
        #expect(try readKeys(keys).count == 2)
        // Root's file may be its group's to read, as a Kubernetes Secret is with fsGroup; no one else's.
        let otherOwner: uid_t = 65534
        if getuid() == 0 { chown(keys, otherOwner, gid_t(otherOwner)) }
        for mode: mode_t in [0o640, 0o604, 0o620, 0o602, 0o644] {
            chmod(keys, mode)
            let error = thrown { _ = try readKeys(keys) }
            #expect(error?.kind == .usage, "mode \(String(mode, radix: 8))")
            #expect(error?.reason == "mode 0\(String(mode, radix: 8)): group or others may read or change it; chmod go-rwx")
        }
        if getuid() == 0 {
            chown(keys, 0, 0)
            for mode: mode_t in [0o640, 0o440] {
                chmod(keys, mode)
                #expect(try readKeys(keys).count == 2, "root's file, mode \(String(mode, radix: 8))")
            }
            for mode: mode_t in [0o660, 0o644, 0o604] {
                chmod(keys, mode)
                #expect(thrown { _ = try readKeys(keys) }?.kind == .usage, "root's file, mode \(String(mode, radix: 8))")
            }
            chmod(keys, 0o600)
        }
        #expect(thrown { _ = try readKeys(try writeFile("", "empty", in: scratch)) } == ThumbnailError(.usage, scratch.file("empty"), "holds no key"))
        #expect(thrown { _ = try readKeys(try writeFile("\n\n", "blank", in: scratch)) }?.reason == "holds no key")
        let short = try writeFile("long-enough-key-0123\nshort\n", "short", in: scratch)
        #expect(thrown { _ = try readKeys(short) } == ThumbnailError(.usage, short + ":2", "a key needs at least 16 bytes"))
        #expect(thrown { _ = try readKeys(scratch.file("missing")) }?.kind == .notFound)
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link"), withDestinationPath: keys)
        #expect(thrown { _ = try readKeys(scratch.file("link")) }?.kind == .ioFailure, "a symlink is not followed")
    }

    @Test func originTokenFiles() throws {
        #expect(try readOriginToken(try writeFile("token-0123456789abcdef\n", "token", in: scratch)) == Array("token-0123456789abcdef".utf8))
        #expect(try readOriginToken(try writeFile("token-0123456789abcdef", "bare", in: scratch)) == Array("token-0123456789abcdef".utf8))
        #expect(thrown { _ = try readOriginToken(try writeFile("\n", "empty", in: scratch)) }?.reason == "holds no token")
        #expect(thrown { _ = try readOriginToken(try writeFile("a-long-enough-token\nsecond line\n", "two", in: scratch)) }?.reason == "holds more than one line")
        #expect(thrown { _ = try readOriginToken(try writeFile("short\n", "short", in: scratch)) }?.reason == "a token needs at least 16 bytes")
        #expect(thrown { _ = try readOriginToken(try writeFile("token-0123456789abcdef\n", "open", in: scratch, mode: 0o644)) }?.kind == .usage)
    }
}
