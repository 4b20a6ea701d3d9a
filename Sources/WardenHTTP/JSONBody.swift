import Foundation
import Hummingbird
import WardenCore
import RunModel

/// A JSON object read from a request body, with typed accessors whose errors name the field and the reason.
///
/// Hand-read rather than `Decodable` so that every refusal says which field is wrong in the user's terms, and so
/// that fields the worker service's clients send in two forms (`action` as a string or `{application, name}`) are
/// both accepted.
struct JSONBody {
    let object: [String: Any]
    let path: String

    init(object: [String: Any], path: String = "") {
        self.object = object
        self.path = path
    }

    /// Reads the request body (at most `limit` bytes) as a JSON object; an empty body is `{}`.
    static func read(_ request: Request, limit: Int = 2 << 20) async throws -> JSONBody {
        let text = try await text(request, limit: limit)
        if text.allSatisfy(\.isWhitespace) { return JSONBody(object: [:]) }
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            throw WardenError(.badRequest, "the body is not valid JSON")
        }
        guard let object = value as? [String: Any] else { throw WardenError(.badRequest, "the body must be a JSON object") }
        return JSONBody(object: object)
    }

    static func text(_ request: Request, limit: Int) async throws -> String {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return String(buffer: buffer)
        } catch {
            throw WardenError(.tooLarge, "the body is larger than \(limit) bytes")
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body (`+` a space, percent escapes decoded); a later
    /// field of the same name wins.
    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let value = object[key] as? String else { throw WardenError.invalid(name(key), "must be a string") }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        if let value = object[key] as? Bool { return value }
        if let text = object[key] as? String, let value = Bool(text.lowercased()) { return value }
        throw WardenError.invalid(name(key), "must be true or false")
    }

    func strings(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        guard let array = object[key] as? [Any] else { throw WardenError.invalid(name(key), "must be an array of strings") }
        return try array.enumerated().map { index, item in
            guard let text = item as? String else { throw WardenError.invalid("\(name(key))[\(index)]", "must be a string") }
            return text
        }
    }

    func object(_ key: String) throws -> JSONBody? {
        guard has(key) else { return nil }
        guard let value = object[key] as? [String: Any] else { throw WardenError.invalid(name(key), "must be an object") }
        return JSONBody(object: value, path: name(key))
    }

    func objects(_ key: String) throws -> [JSONBody]? {
        guard has(key) else { return nil }
        guard let array = object[key] as? [Any] else { throw WardenError.invalid(name(key), "must be an array of objects") }
        return try array.enumerated().map { index, item in
            guard let value = item as? [String: Any] else { throw WardenError.invalid("\(name(key))[\(index)]", "must be an object") }
            return JSONBody(object: value, path: "\(name(key))[\(index)]")
        }
    }

    /// The raw value of `key` as JSON text (`""` when absent, for `undefined`).
    func json(_ key: String) -> String {
        guard let value = object[key] else { return "" }
        return JSONBody.serialize(value)
    }

    static func serialize(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func quote(_ text: String) -> String { JSONText.quote(text) }
}

extension Response {
    /// A JSON response with the worker service's content type.
    static func json(_ value: Any, status: HTTPResponse.Status = .ok) -> Response {
        let text = JSONBody.serialize(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
