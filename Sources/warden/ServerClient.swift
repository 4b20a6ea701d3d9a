import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where the `warden worker` client commands find the server: flags, then WARDEN_URL / WARDEN_TOKEN, then
/// `~/.config/warden/cli.json` (`{"url": "...", "token": "..."}`).
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("server-url"), help: "The Warden server, e.g. http://127.0.0.1:8080.") var serverURL: String?
    @Option(name: .customLong("access-token"), help: "An API token.") var accessToken: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument { case table, json }

    func client() throws -> ServerClient {
        let environment = ProcessInfo.processInfo.environment
        var fileURL: String?
        var fileToken: String?
        let home = environment["HOME"] ?? NSHomeDirectory()
        if let data = FileManager.default.contents(atPath: home + "/.config/warden/cli.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            fileURL = object["url"] as? String
            fileToken = object["token"] as? String
        }
        guard let url = serverURL ?? environment["WARDEN_URL"] ?? fileURL, let base = URL(string: url), base.scheme != nil else {
            throw ValidationError("no server: give --server-url, set WARDEN_URL, or write ~/.config/warden/cli.json")
        }
        guard let token = accessToken ?? environment["WARDEN_TOKEN"] ?? fileToken else {
            throw ValidationError("no token: give --access-token, set WARDEN_TOKEN, or write ~/.config/warden/cli.json")
        }
        return ServerClient(base: base, token: token)
    }
}

/// A small HTTP client for the worker API; errors carry the server's own message.
struct ServerClient {
    let base: URL
    let token: String

    struct Reply {
        var status: Int
        var data: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) }
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    func send(_ method: String, _ path: String, json: Any? = nil, query: [String: String] = [:]) async throws -> Reply {
        // `path` is sent as given: callers percent-encode what must be (a project path's '/' as %2F).
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        guard var components = URLComponents(string: root + "/" + path) else { throw ValidationError("'\(path)' does not make a URL") }
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        guard let url = components.url else { throw ValidationError("'\(path)' does not make a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed])
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, data: data)
    }

    /// `send`, failing with the server's message unless the status is one of `expected`.
    func expect(_ expected: Set<Int>, _ method: String, _ path: String, json: Any? = nil, query: [String: String] = [:]) async throws -> Reply {
        let reply = try await send(method, path, json: json, query: query)
        guard expected.contains(reply.status) else { throw ServerError(reply: reply) }
        return reply
    }
}

/// The server refused: prints its message and exits 1.
struct ServerError: Error, CustomStringConvertible {
    var reply: ServerClient.Reply

    var description: String {
        if let object = reply.json as? [String: Any], let errors = object["errors"] as? [[String: Any]], let message = errors.first?["message"] {
            return "server answered \(reply.status): \(message)"
        }
        if let object = reply.json as? [String: Any] {
            // The runners API v4 ({message} or {error}) and the tenant routes ({error, description}).
            if let fields = object["message"] as? [String: Any] {
                let reasons = fields.sorted { $0.key < $1.key }.map {
                    "\($0.key): \(($0.value as? [Any])?.map { "\($0)" }.joined(separator: ", ") ?? "\($0.value)")"
                }
                return "server answered \(reply.status): \(reasons.joined(separator: "; "))"
            }
            if let message = object["message"] ?? object["description"] ?? object["error"] { return "server answered \(reply.status): \(message)" }
        }
        return "server answered \(reply.status): \(reply.text)"
    }
}

/// Prints JSON pretty, or rows as an aligned table.
enum Output {
    static func json(_ value: Any) {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]))
            ?? Data()
        print(String(decoding: data, as: UTF8.self))
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}

/// The worker's manifest.json, as `warden worker init` writes it and `deploy` reads it.
struct Manifest: Codable {
    var name: String
    var description: String
    var sourceCodePath: String
    var action: String
    var enabled: Bool
    var debug: Bool
    var projectKey: String?
    var secrets: [String: String]?
    var filterCriteria: AnyJSON?
    var application: String?
    /// What the worker's run token may reach (docs/permissions.md); sent as it is.
    var platformAccess: AnyJSON?

    static func load(from folder: String = ".") throws -> (Manifest, source: String) {
        let path = (folder as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("no manifest.json in \(folder): run `warden worker init` first")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw ValidationError("manifest.json: \(error)")
        }
        let sourcePath = (folder as NSString).appendingPathComponent(manifest.sourceCodePath)
        guard let source = try? String(contentsOfFile: sourcePath, encoding: .utf8) else {
            throw ValidationError("manifest.json: sourceCodePath '\(manifest.sourceCodePath)' cannot be read")
        }
        return (manifest, source)
    }

    func save(to folder: String = ".") throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("manifest.json")))
    }
}

/// Any JSON value, kept as is (the manifest's filterCriteria).
struct AnyJSON: Codable {
    var value: Any

    init(_ value: Any) { self.value = value }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = NSNull()
        } else if let bool = try? container.decode(Bool.self) {
            value = bool
        } else if let number = try? container.decode(Double.self) {
            value = number
        } else if let text = try? container.decode(String.self) {
            value = text
        } else if let array = try? container.decode([AnyJSON].self) {
            value = array.map(\.value)
        } else {
            value = try container.decode([String: AnyJSON].self).mapValues(\.value)
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case let bool as Bool: try container.encode(bool)
        case let number as Double: try container.encode(number)
        case let number as Int: try container.encode(number)
        case let text as String: try container.encode(text)
        case let array as [Any]: try container.encode(array.map(AnyJSON.init))
        case let object as [String: Any]: try container.encode(object.mapValues(AnyJSON.init))
        default: try container.encodeNil()
        }
    }
}
