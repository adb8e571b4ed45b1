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
    /// Whether a service handed them out, as temporary keys to fetch again before they expire.
    var fetched = false
    /// When they expire, in seconds since the epoch, if the service said.
    var expiration: Int? = nil
}

/// What one place of the chain gave: keys, or none and where it looked (for
/// the error that says nothing was found anywhere).
typealias CredentialSearch = (credentials: AWSCredentials?, looked: String)

/// Finds credentials in the AWS SDKs' order, once per process: the
/// environment, a web identity (EKS IRSA), the shared credentials file, the
/// container's role (ECS task roles, EKS Pod Identity), then the EC2
/// instance's role (IMDSv2). Keys that a service handed out are fetched
/// again before they expire, however long the process runs.
final class CredentialChain: @unchecked Sendable {
    /// Fetched keys are fetched again this long before they expire (or half
    /// the time they have left, when that is less), and this long after they
    /// came when the service does not say when they expire.
    static let refreshMargin = 300

    private let environment: [String: String]
    /// The STS endpoint's region.
    private let region: String
    private let caFile: String?
    private let now: @Sendable () -> Int
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var found: (credentials: AWSCredentials, refresh: Int?)? = nil

    init(environment: [String: String], region: String, caFile: String?, now: @escaping @Sendable () -> Int) {
        self.environment = environment
        self.region = region
        self.caFile = caFile
        self.now = now
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func current() throws(ThumbnailError) -> AWSCredentials {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let time = now()
        if let found, found.refresh.map({ time < $0 }) ?? true { return found.credentials }
        do throws(ThumbnailError) {
            let credentials = try search()
            let refresh = credentials.fetched ? Self.refreshTime(expiration: credentials.expiration, now: time) : nil
            found = (credentials, refresh)
            return credentials
        } catch {
            // A refresh that fails keeps the keys there are while they last.
            if let kept = found?.credentials, let expiration = kept.expiration, time < expiration { return kept }
            throw error
        }
    }

    /// When keys fetched at `now` are fetched again.
    static func refreshTime(expiration: Int?, now: Int) -> Int {
        guard let expiration else { return now + refreshMargin }
        return expiration - min(refreshMargin, max(0, expiration - now) / 2)
    }

    private func search() throws(ThumbnailError) -> AWSCredentials {
        let places: [() throws(ThumbnailError) -> CredentialSearch] = [
            fromEnvironment, fromWebIdentity, fromSharedFile, fromContainer, fromInstance,
        ]
        var looked: [String] = []
        for place in places {
            let search = try place()
            if let credentials = search.credentials { return credentials }
            looked.append(search.looked)
        }
        throw noCredentials(looked)
    }

    private func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The URL of the first of `names` that is set, without a final `/`,
    /// checked to be http or https.
    private func serviceURL(_ names: String...) throws(ThumbnailError) -> String? {
        guard let name = names.first(where: { value($0) != nil }), let url = value(name) else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ThumbnailError(.misconfigured, name, "'\(url)' is not an http:// or https:// URL")
        }
        return String(url.reversed().drop { $0 == "/" }.reversed())
    }

    private func fromEnvironment() -> CredentialSearch {
        guard let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
            return (nil, "in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not both set)")
        }
        let credentials = AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"),
            source: "environment (AWS_ACCESS_KEY_ID)")
        return (credentials, "")
    }

    /// A Kubernetes service account's token traded for the role's keys (EKS
    /// IRSA) by STS's AssumeRoleWithWebIdentity, which takes no signature.
    /// The token file is read each time: the cluster replaces it as it ages.
    private func fromWebIdentity() throws(ThumbnailError) -> CredentialSearch {
        guard let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE"), let role = value("AWS_ROLE_ARN") else {
            return (nil, "from a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not both set)")
        }
        let token = try readToken(tokenFile, "web identity token")
        // The SDKs' own variables for another endpoint: STS's, then every service's.
        let endpoint =
            try serviceURL("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL") ?? "https://sts.\(region).amazonaws.com"
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role),
            ("RoleSessionName", value("AWS_ROLE_SESSION_NAME") ?? "thumbnail-\(now())"), ("WebIdentityToken", token),
        ]
        let answer = try HTTPClient.ofThisThread().fetch(
            StoreRequest(
                url: endpoint + "/", method: "POST", headers: ["Content-Type: application/x-www-form-urlencoded"],
                body: Array(form.map { s3Encoded($0.0) + "=" + s3Encoded($0.1) }.joined(separator: "&").utf8),
                caFile: caFile, timeout: 10, limit: 1 << 16))
        guard answer.status == 200 else {
            let code = xmlElement("Code", in: answer.body) ?? "-"
            let message = xmlElement("Message", in: answer.body).map { ": " + $0 } ?? ""
            throw ThumbnailError(
                .misconfigured, endpoint, "STS answered \(answer.status) \(code)\(message) for the role \(role)")
        }
        let field = { (name: String) in xmlElement(name, in: answer.body, longest: 1 << 14) }
        guard let key = field("AccessKeyId"), let secret = field("SecretAccessKey"), let session = field("SessionToken")
        else {
            throw ThumbnailError(.misconfigured, endpoint, "STS's answer lacks AccessKeyId, SecretAccessKey or SessionToken")
        }
        let credentials = AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: session,
            source: "web identity in \(tokenFile), role \(role) (STS at \(endpoint))", fetched: true,
            expiration: field("Expiration").flatMap(parseISO8601))
        return (credentials, "")
    }

    /// The profile's keys from the shared credentials file; none when there
    /// is no file, or no such profile and none was asked for by name.
    private func fromSharedFile() throws(ThumbnailError) -> CredentialSearch {
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

    /// The task's or pod's role from the container credentials endpoint
    /// (ECS task roles, EKS Pod Identity): a GET with the authorization
    /// token, answered with the keys in JSON.
    private func fromContainer() throws(ThumbnailError) -> CredentialSearch {
        let url: String
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? "" : "/") + relative
        } else if let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            guard isContainerCredentialsURL(full) else {
                throw ThumbnailError(
                    .misconfigured, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "'\(full)': not https, nor http to a loopback address or to 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]")
            }
            url = full
        } else {
            return (
                nil,
                "from a container role (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI set)"
            )
        }
        let token = try value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map { path throws(ThumbnailError) in
            try readToken(path, "container authorization token")
        } ?? value("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        if let token, !token.utf8.allSatisfy({ (0x20...0x7e).contains($0) }) {
            throw ThumbnailError(.misconfigured, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "holds a byte an HTTP header cannot")
        }
        let answer = try HTTPClient.ofThisThread().fetch(
            StoreRequest(
                url: url, headers: token.map { ["Authorization: " + $0] } ?? [], caFile: caFile, timeout: 5,
                limit: 1 << 16))
        guard answer.status == 200 else {
            throw ThumbnailError(.misconfigured, url, "the container credentials endpoint answered \(answer.status)")
        }
        return (try temporaryKeys(answer, from: url, source: "container role (\(url))"), "")
    }

    /// The instance role's keys through IMDSv2: a session token first (PUT),
    /// then the role's name, then its keys. None when the service is turned
    /// off, does not answer (not on EC2), refuses the token (as a host
    /// whose service is off answers) or names no role.
    private func fromInstance() throws(ThumbnailError) -> CredentialSearch {
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" {
            return (nil, "from the instance metadata service (turned off: AWS_EC2_METADATA_DISABLED=true)")
        }
        let base = try serviceURL("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
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
        return (try temporaryKeys(answer, from: base, source: "instance role \(role) (IMDSv2 at \(base))"), "")
    }

    /// The keys of a JSON answer, as the container endpoint and the instance
    /// metadata service give them: AccessKeyId, SecretAccessKey, Token, Expiration.
    private func temporaryKeys(_ answer: StoreAnswer, from service: String, source: String) throws(ThumbnailError) -> AWSCredentials {
        let document = String(decoding: answer.body, as: UTF8.self)
        guard let key = jsonString("AccessKeyId", in: document), let secret = jsonString("SecretAccessKey", in: document)
        else {
            throw ThumbnailError(.misconfigured, service, "the role's credentials lack AccessKeyId or SecretAccessKey")
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: jsonString("Token", in: document), source: source,
            fetched: true, expiration: jsonString("Expiration", in: document).flatMap(parseISO8601))
    }
}

/// The error when no place of the chain had credentials: each place and what it said, in order.
func noCredentials(_ looked: [String]) -> ThumbnailError {
    let places = looked.count < 2 ? looked.joined() : looked.dropLast().joined(separator: ", ") + " or " + looked.last!
    return ThumbnailError(.misconfigured, "S3 credentials", "none found " + places)
}

/// A token file of the orchestrator's (a projected service account token):
/// its one line. It is no secret of ours to guard: the cluster writes it
/// readable, behind a symbolic link, and replaces it as it ages.
private func readToken(_ path: String, _ what: String) throws(ThumbnailError) -> String {
    let bytes: [UInt8]
    do throws(ThumbnailError) {
        bytes = try readSource(path, limit: 1 << 16, followingLinks: true).bytes
    } catch {
        throw ThumbnailError(.misconfigured, path, "\(what): \(error.reason)")
    }
    let token = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map { String($0.trimmingSpaces) } ?? ""
    guard !token.isEmpty else { throw ThumbnailError(.misconfigured, path, "\(what): the file is empty") }
    return token
}

/// Whether the SDKs would send a container's authorization token to `url`:
/// over https anywhere, over http only to the host itself (a loopback
/// address) or to ECS's and EKS's link-local endpoints.
func isContainerCredentialsURL(_ url: String) -> Bool {
    if url.hasPrefix("https://") { return true }
    guard url.hasPrefix("http://") else { return false }
    let authority = url.dropFirst("http://".count).prefix { $0 != "/" }
    var host = authority
    if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
        host = authority[...close]
    } else if let colon = authority.lastIndex(of: ":") {
        host = authority[..<colon]
    }
    let octets = host.split(separator: ".", omittingEmptySubsequences: false)
    let loopback = octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    return loopback || ["localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"].contains(host)
}

/// The region an S3 root's requests are signed for, and where it came from,
/// in the SDKs' order: `--s3-region`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// the profile's `region` in the config file (`AWS_CONFIG_FILE`, else
/// `~/.aws/config`; profile `AWS_PROFILE`, else `default`), else us-east-1.
func awsRegion(option: String?, environment: [String: String]) throws(ThumbnailError) -> (name: String, source: String) {
    if let option { return (option, "--s3-region") }
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let region = environment[name], !region.isEmpty { return (region, name) }
    }
    let value = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
    guard let path = value("AWS_CONFIG_FILE") ?? value("HOME").map({ $0 + "/.aws/config" }) else {
        return (RemoteOptions.defaultRegion, "the default")
    }
    let bytes: [UInt8]
    do throws(ThumbnailError) {
        bytes = try readSource(path, limit: 1 << 20, followingLinks: true).bytes
    } catch where error.kind == .notFound {
        return (RemoteOptions.defaultRegion, "the default")
    } catch {
        throw ThumbnailError(.misconfigured, path, "AWS config file: \(error.reason)")
    }
    let profile = value("AWS_PROFILE") ?? "default"
    let section = profile == "default" ? "default" : "profile " + profile
    guard let region = iniSection(section, in: String(decoding: bytes, as: UTF8.self))?["region"] else {
        return (RemoteOptions.defaultRegion, "the default")
    }
    guard !region.isEmpty, region.utf8.allSatisfy({ isTokenByte($0) && $0 != UInt8(ascii: ":") }) else {
        throw ThumbnailError(.misconfigured, path, "[\(section)] region '\(region)' is not a region name")
    }
    return (region, "[\(section)] of \(path)")
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

/// `2026-12-06T15:04:05Z` (a fraction of a second and a `+HH:MM` offset
/// allowed), as AWS writes an Expiration, in seconds since the epoch.
func parseISO8601(_ text: String) -> Int? {
    let characters = Array(text.utf8)
    func number(_ start: Int, _ count: Int) -> Int? {
        guard start + count <= characters.count else { return nil }
        let digits = characters[start..<start + count]
        guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
    let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
    guard characters.count >= 20, separators.allSatisfy({ characters[$0.0] == $0.1.asciiValue }),
        let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
        let minute = number(14, 2), let second = number(17, 2),
        (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
    else { return nil }
    var index = 19
    if characters[index] == UInt8(ascii: ".") {
        index += 1
        while index < characters.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(characters[index]) { index += 1 }
    }
    var offset = 0
    if index == characters.count - 1, characters[index] == UInt8(ascii: "Z") {
        offset = 0
    } else if index == characters.count - 6, characters[index + 3] == UInt8(ascii: ":"),
        characters[index] == UInt8(ascii: "+") || characters[index] == UInt8(ascii: "-"),
        let hours = number(index + 1, 2), let minutes = number(index + 4, 2)
    {
        offset = (characters[index] == UInt8(ascii: "+") ? 1 : -1) * (hours * 3600 + minutes * 60)
    } else {
        return nil
    }
    var fields = tm()
    (fields.tm_year, fields.tm_mon, fields.tm_mday) = (Int32(year - 1900), Int32(month - 1), Int32(day))
    (fields.tm_hour, fields.tm_min, fields.tm_sec) = (Int32(hour), Int32(minute), Int32(second))
    return timegm(&fields) - offset
}
