#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keys that sign S3 requests. Never printed or logged: `source` says where they came from.
struct AWSCredentials: Sendable {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
    var source: String
}

/// Finds credentials in the AWS command-line tools' order, once per
/// process: the environment, the shared credentials file, then the EC2
/// instance's role (IMDSv2). Those from the instance are fetched again
/// after five minutes, well before the instance rotates them.
final class CredentialChain: @unchecked Sendable {
    private let environment: [String: String]
    private let caFile: String?
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var found: (credentials: AWSCredentials, expires: UInt64?)? = nil

    init(environment: [String: String], caFile: String?) {
        self.environment = environment
        self.caFile = caFile
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func current() throws(ThumbnailError) -> AWSCredentials {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let found, found.expires.map({ monotonicNanoseconds() < $0 }) ?? true { return found.credentials }
        if let credentials = fromEnvironment() {
            found = (credentials, nil)
            return credentials
        }
        let file = try fromSharedFile()
        if let credentials = file.credentials {
            found = (credentials, nil)
            return credentials
        }
        let instance = try fromInstance()
        guard let credentials = instance.credentials else {
            throw ThumbnailError(
                .misconfigured, "S3 credentials",
                "none found in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not both set), "
                    + file.looked + " or " + instance.looked)
        }
        found = (credentials, monotonicNanoseconds() + 300 * 1_000_000_000)
        return credentials
    }

    private func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    private func fromEnvironment() -> AWSCredentials? {
        guard let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else { return nil }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"),
            source: "environment (AWS_ACCESS_KEY_ID)")
    }

    /// The profile's keys from the shared credentials file; none when there
    /// is no file, or no such profile and none was asked for by name. With
    /// where it looked, for the error that says nothing was found.
    private func fromSharedFile() throws(ThumbnailError) -> (credentials: AWSCredentials?, looked: String) {
        guard let path = value("AWS_SHARED_CREDENTIALS_FILE") ?? value("HOME").map({ $0 + "/.aws/credentials" })
        else { return (nil, "in no credentials file (neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set)") }
        let profile = value("AWS_PROFILE") ?? "default"
        let bytes: [UInt8]
        do throws(ThumbnailError) {
            bytes = try readSecretFile(path)
        } catch where error.kind == .notFound {
            return (nil, "in the credentials file \(path) (\(error.reason))")
        } catch {
            throw ThumbnailError(.misconfigured, path, "credentials file: \(error.reason)")
        }
        let fields = iniSection(profile, in: String(decoding: bytes, as: UTF8.self))
        guard let fields else {
            if value("AWS_PROFILE") == nil { return (nil, "in the credentials file \(path) (no profile [default])") }
            throw ThumbnailError(.misconfigured, path, "no profile [\(profile)] (AWS_PROFILE)")
        }
        guard let key = fields["aws_access_key_id"], let secret = fields["aws_secret_access_key"] else {
            throw ThumbnailError(.misconfigured, path, "profile [\(profile)] lacks aws_access_key_id or aws_secret_access_key")
        }
        let credentials = AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: fields["aws_session_token"],
            source: "credentials file \(path), profile \(profile)")
        return (credentials, "")
    }

    /// The instance role's keys through IMDSv2: a session token first (PUT),
    /// then the role's name, then its keys. None when the service is turned
    /// off, does not answer (not on EC2), refuses the token (as a host
    /// whose service is off answers) or names no role, with which of these
    /// it was, for the error that says nothing was found.
    private func fromInstance() throws(ThumbnailError) -> (credentials: AWSCredentials?, looked: String) {
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" {
            return (nil, "from the instance metadata service (turned off: AWS_EC2_METADATA_DISABLED=true)")
        }
        let base = value("AWS_EC2_METADATA_SERVICE_ENDPOINT").map { String($0.reversed().drop { $0 == "/" }.reversed()) }
            ?? "http://169.254.169.254"
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ThumbnailError(.misconfigured, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "'\(base)' is not an http:// URL")
        }
        let service = "from the instance metadata service at \(base)"
        let client = try HTTPClient.ofThisThread()
        func ask(_ path: String, method: String = "GET", header: String) throws(ThumbnailError) -> StoreAnswer {
            let headers = method == "PUT" ? [header, "Content-Length: 0"] : [header]
            return try client.fetch(
                StoreRequest(
                    url: base + path, method: method, headers: headers, caFile: caFile, timeout: 2, limit: 1 << 16))
        }
        let token: StoreAnswer
        do throws(ThumbnailError) {
            token = try ask("/latest/api/token", method: "PUT", header: "X-aws-ec2-metadata-token-ttl-seconds: 21600")
        } catch where error.kind == .storeFailure {
            return (nil, service + " (no answer: not on EC2)")
        }
        guard token.status == 200 else { return (nil, service + " (it answered \(token.status) to the token request)") }
        let tokenHeader = "X-aws-ec2-metadata-token: " + String(decoding: token.body, as: UTF8.self)
        let roles = try ask("/latest/meta-data/iam/security-credentials/", header: tokenHeader)
        guard roles.status == 200,
            let role = String(decoding: roles.body, as: UTF8.self).split(separator: "\n").first.map({ String($0.trimmingSpaces) }),
            !role.isEmpty, role.utf8.allSatisfy({ isTokenByte($0) })
        else {
            return (nil, service + " (the instance has no role)")
        }
        let answer = try ask("/latest/meta-data/iam/security-credentials/" + role, header: tokenHeader)
        guard answer.status == 200 else {
            throw ThumbnailError(.misconfigured, base, "instance metadata answered \(answer.status) for the role \(role)'s credentials")
        }
        let document = String(decoding: answer.body, as: UTF8.self)
        guard let key = jsonString("AccessKeyId", in: document), let secret = jsonString("SecretAccessKey", in: document)
        else {
            throw ThumbnailError(.misconfigured, base, "the role's credentials lack AccessKeyId or SecretAccessKey")
        }
        let credentials = AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: jsonString("Token", in: document),
            source: "instance role \(role) (IMDSv2 at \(base))")
        return (credentials, "")
    }
}

/// The `name = value` lines of `[section]` in an INI text, or nil without that section.
func iniSection(_ section: String, in text: String) -> [String: String]? {
    var fields: [String: String]? = nil
    var inside = false
    for line in text.split(separator: "\n") {
        let line = line.prefix { $0 != "#" && $0 != ";" }.trimmingSpaces
        if line.hasPrefix("[") && line.hasSuffix("]") {
            inside = line.dropFirst().dropLast().trimmingSpaces == section
            if inside, fields == nil { fields = [:] }
        } else if inside, let equals = line.firstIndex(of: "=") {
            fields?[String(line[..<equals].trimmingSpaces)] = String(line[line.index(after: equals)...].trimmingSpaces)
        }
    }
    return fields
}

/// The string value of `"name"` in a flat JSON object, escapes decoded; nil when absent or not a string.
func jsonString(_ name: String, in text: String) -> String? {
    guard let key = text.firstRange(of: "\"\(name)\"") else { return nil }
    var rest = text[key.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard rest.first == ":" else { return nil }
    rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard rest.first == "\"" else { return nil }
    var value = ""
    var characters = rest.dropFirst().makeIterator()
    while let character = characters.next() {
        switch character {
        case "\"": return value
        case "\\":
            switch characters.next() {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case let escaped? where "\"\\/".contains(escaped): value.append(escaped)
            default: return nil
            }
        default: value.append(character)
        }
    }
    return nil
}
