import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP request a worker made through `context.clients.platformHttp` or `context.clients.axios`.
public struct HostCall: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case platformHttp
        case axios
    }

    public enum Body: Sendable, Equatable {
        /// A string body, sent as is.
        case text(String)
        /// Any other value, as JSON text.
        case json(String)
    }

    public var kind: Kind
    public var method: String
    /// A path for platformHttp (`/artifactory/api/...`), an absolute URL for axios.
    public var url: String
    public var headers: [String: String]
    public var body: Body?

    public init(kind: Kind, method: String, url: String, headers: [String: String] = [:], body: Body? = nil) {
        self.kind = kind
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Reads the prelude's request JSON `{method, url, headers, body: null | {text} | {json}}`.
    init?(kind: Kind, payloadJSON: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payloadJSON.utf8)) as? [String: Any] else { return nil }
        var headers: [String: String] = [:]
        for (name, value) in object["headers"] as? [String: Any] ?? [:] { headers[name] = "\(value)" }
        var body: Body?
        if let wrapped = object["body"] as? [String: Any] {
            if let text = wrapped["text"] as? String {
                body = .text(text)
            } else if let json = wrapped["json"],
                let data = try? JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            {
                body = .json(String(decoding: data, as: UTF8.self))
            }
        }
        self.init(kind: kind, method: object["method"] as? String ?? "GET", url: object["url"] as? String ?? "", headers: headers, body: body)
    }
}

/// The answer to a host call; any status is an answer (the worker's client decides what rejects).
public struct HostResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public init(status: Int, headers: [String: String] = [:], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }

    var json: String {
        let headerText = headers.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(JSONText.quote($0.value))" }.joined(separator: ",")
        return "{\"status\":\(status),\"headers\":{\(headerText)},\"body\":\(JSONText.quote(body))}"
    }
}

/// Who made a host call: the embedding authorises it as this worker.
public struct HostCallOrigin: Sendable, Equatable {
    public var workerKey: String
    public var platformToken: String
    public var runID: UInt64
}

/// Answers workers' HTTP calls. The server wires its own routes (platformHttp) and an outbound client limited by the
/// egress allow-list (axios); tests and `warden worker run` give their own.
public protocol HostCallHandler: Sendable {
    /// A response, or an error whose message the worker's promise rejects with.
    func handle(_ call: HostCall, from origin: HostCallOrigin) async throws -> HostResponse
}

/// Which outbound hosts `context.clients.axios` may reach: exact names or `*.suffix` patterns, each with an optional
/// `:port` (without one, only the scheme's own port: 80 for http, 443 for https; `:*` for any). Empty by default, which allows
/// nothing. A name on the list that resolves to a loopback, private, link-local or otherwise internal address is
/// refused too, unless it is on `privateHosts` as well: an allowed name is no way into the server's own network.
public struct EgressPolicy: Sendable, Equatable {
    public var allowedHosts: [String]
    /// Hosts allowed to resolve to internal addresses (same patterns).
    public var privateHosts: [String]

    public init(allowedHosts: [String] = [], privateHosts: [String] = []) {
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
        self.privateHosts = privateHosts.map { $0.lowercased() }
    }

    /// Nil when `url` may be reached by its name and port; otherwise why not. (The addresses it resolves to are
    /// checked by `addressRefusal`, just before connecting.)
    public func refusal(for url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(),
            !host.isEmpty
        else { return "'\(url)' is not an absolute http(s) URL" }
        guard scheme == "http" || scheme == "https" else { return "only http and https are allowed, not \(scheme)" }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65_535).contains(port) else { return "port \(port) is not a TCP port" }
        guard Self.matches(allowedHosts, host: host, port: port, defaultPort: scheme == "https" ? 443 : 80) else {
            return "host '\(host)' port \(port) is not on this server's egress allow-list"
        }
        return nil
    }

    /// Nil when every address `host` resolves to may be reached; otherwise why not.
    public func addressRefusal(host rawHost: String, port: Int) -> String? {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if Self.matches(privateHosts, host: host, port: port, defaultPort: port) { return nil }
        let addresses = Self.resolve(host)
        guard !addresses.isEmpty else { return "host '\(host)' does not resolve" }
        if let inner = addresses.first(where: Self.isInternal) {
            return "host '\(host)' resolves to the internal address \(inner); list it in warden.egress.privateHosts to allow that"
        }
        return nil
    }

    static func matches(_ patterns: [String], host: String, port: Int, defaultPort: Int) -> Bool {
        patterns.contains { entry in
            var pattern = Substring(entry)
            var wanted: Int? = defaultPort
            if let colon = entry.lastIndex(of: ":"), !entry.hasSuffix("]") {
                let suffix = entry[entry.index(after: colon)...]
                if suffix == "*" {
                    pattern = entry[..<colon]
                    wanted = nil
                } else if let number = Int(suffix) {
                    pattern = entry[..<colon]
                    wanted = number
                }
            }
            if let wanted, wanted != port { return false }
            return pattern.hasPrefix("*.") ? host.hasSuffix(pattern.dropFirst(1)) : host == pattern
        }
    }

    /// The numeric addresses of `host` (itself when it is one).
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = entry.pointee.ai_addr,
                getnameinfo(address, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
            {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    /// Loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT, unspecified, multicast and
    /// IPv4-mapped forms of those.
    static func isInternal(_ address: String) -> Bool {
        var text = address.lowercased()
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        if text.hasPrefix("::ffff:"), text.contains(".") { text = String(text.dropFirst(7)) }
        let octets = text.split(separator: ".").compactMap { UInt8($0) }
        if octets.count == 4 {
            switch (octets[0], octets[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168), (255, _): return true
            case (172, 16...31), (100, 64...127), (198, 18...19): return true
            case (224...239, _): return true
            default: return false
            }
        }
        if text == "::" || text == "::1" { return true }
        return text.hasPrefix("fc") || text.hasPrefix("fd") || text.hasPrefix("fe8") || text.hasPrefix("fe9") || text.hasPrefix("fea")
            || text.hasPrefix("feb") || text.hasPrefix("ff")
    }
}

/// JSON text built by hand on the run path, where JSONSerialization would cost more than the run itself.
public enum JSONText {
    public static func quote(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    public static func object(_ pairs: [String: String]) -> String {
        "{" + pairs.sorted { $0.key < $1.key }.map { quote($0.key) + ":" + quote($0.value) }.joined(separator: ",") + "}"
    }
}

/// Replaces every secret value in text with `***`, in its plain and its JSON-escaped form.
public struct SecretMasker: Sendable {
    let needles: [String]

    public init(secrets: some Collection<String>) {
        var needles = Set<String>()
        for value in secrets where !value.isEmpty {
            needles.insert(value)
            let escaped = String(JSONText.quote(value).dropFirst().dropLast())
            needles.insert(escaped)
        }
        self.needles = needles.sorted { $0.count > $1.count }
    }

    public var isEmpty: Bool { needles.isEmpty }

    public func mask(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        var text = text
        for needle in needles where text.contains(needle) {
            text = text.replacingOccurrences(of: needle, with: "***")
        }
        return text
    }

    /// Masks the strings (keys and values) of JSON text, keeping it valid JSON whatever the secrets look like.
    public func maskJSON(_ json: String) -> String {
        guard needles.contains(where: { json.contains($0) }),
            let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        else { return json }
        func walk(_ value: Any) -> Any {
            switch value {
            case let string as String: return mask(string)
            case let array as [Any]: return array.map(walk)
            case let object as [String: Any]:
                var masked: [String: Any] = [:]
                for (key, item) in object { masked[mask(key)] = walk(item) }
                return masked
            default: return value
            }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: walk(value), options: [.fragmentsAllowed, .withoutEscapingSlashes])
        else { return "\"***\"" }
        return String(decoding: data, as: UTF8.self)
    }

    public func mask(_ outcome: RunOutcome) -> RunOutcome {
        switch outcome {
        case .success(let json?): return .success(resultJSON: maskJSON(json))
        case .threw(var error):
            error.message = mask(error.message)
            error.type = mask(error.type)
            return .threw(error)
        default: return outcome
        }
    }
}
