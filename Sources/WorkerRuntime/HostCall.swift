import Foundation

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

/// Which outbound hosts `context.clients.axios` may reach: exact names or `*.suffix` patterns. Empty by default,
/// which allows nothing.
public struct EgressPolicy: Sendable, Equatable {
    public var allowedHosts: [String]

    public init(allowedHosts: [String] = []) { self.allowedHosts = allowedHosts.map { $0.lowercased() } }

    /// Nil when `url` may be reached; otherwise why not.
    public func refusal(for url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(),
            !host.isEmpty
        else { return "'\(url)' is not an absolute http(s) URL" }
        guard scheme == "http" || scheme == "https" else { return "only http and https are allowed, not \(scheme)" }
        let allowed = allowedHosts.contains { pattern in
            pattern.hasPrefix("*.") ? host.hasSuffix(pattern.dropFirst(1)) : host == pattern
        }
        return allowed ? nil : "host '\(host)' is not on this server's egress allow-list"
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
