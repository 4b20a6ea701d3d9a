import Foundation

/// The parts the OpenAPI 3.1 document (`OpenAPIDocument`) is written with: JSON Schemas as plain values, and
/// operations declared in a line or a few, whose path parameters, security and error answers follow from their
/// path and dialect.
enum Schema {
    typealias JSON = [String: Any]

    static var string: JSON { ["type": "string"] }
    static var integer: JSON { ["type": "integer"] }
    static var boolean: JSON { ["type": "boolean"] }
    /// Any JSON value.
    static var any: JSON { [:] }
    static var null: JSON { ["type": "null"] }

    static func string(enum values: [String]) -> JSON { ["type": "string", "enum": values] }
    static func nullable(_ schema: JSON) -> JSON { ["anyOf": [schema, null]] }
    static func array(_ items: JSON) -> JSON { ["type": "array", "items": items] }
    static func ref(_ name: String) -> JSON { ["$ref": "#/components/schemas/\(name)"] }
    static func oneOf(_ schemas: [JSON]) -> JSON { ["oneOf": schemas] }
    static func anyOf(_ schemas: [JSON]) -> JSON { ["anyOf": schemas] }

    /// An object with these properties (`required` lists those always present); other members are allowed unless
    /// `closed`.
    static func object(_ properties: [String: JSON] = [:], required: [String] = [], closed: Bool = false) -> JSON {
        var schema: JSON = ["type": "object"]
        if !properties.isEmpty { schema["properties"] = properties }
        if !required.isEmpty { schema["required"] = required.sorted() }
        if closed { schema["additionalProperties"] = false }
        return schema
    }

    /// An object whose members all have one schema.
    static func map(_ values: JSON) -> JSON { ["type": "object", "additionalProperties": values] }
}

/// One answer of an operation.
enum Answer {
    case json(Schema.JSON)
    /// Text whose schema is given (a dialect whose refusals are plain text).
    case plain(Schema.JSON)
    case text
    /// One of several media types, each with its schema.
    case media([(type: String, schema: Schema.JSON)])
    /// Bytes of any type (a stored file).
    case bytes
    case empty

    func rendered(_ description: String) -> Schema.JSON {
        switch self {
        case .json(let schema): ["description": description, "content": ["application/json": ["schema": schema]]]
        case .plain(let schema): ["description": description, "content": ["text/plain": ["schema": schema]]]
        case .text: ["description": description, "content": ["text/plain": ["schema": Schema.string]]]
        case .media(let choices):
            [
                "description": description,
                "content": Dictionary(choices.map { ($0.type, ["schema": $0.schema] as Schema.JSON) }) { first, _ in first },
            ]
        case .bytes:
            ["description": description, "content": ["*/*": ["schema": ["type": "string", "contentMediaType": "application/octet-stream"]]]]
        case .empty: ["description": description]
        }
    }
}

/// How a dialect refuses: the error body's schema, the statuses every one of its authenticated operations may
/// answer, and its credentials.
struct Dialect {
    let tag: String
    let error: Schema.JSON
    /// The refusals any operation of the dialect may answer (bad input, credentials, rights, absence, a body over
    /// its limit, the database away).
    var refusals: [Int] = [400, 401, 403, 404, 413, 503]
    /// Refusals are plain text (`error` is then the text's schema).
    var textErrors = false
    /// Refusals that do not have the dialect's error shape (the tenant dialect's 403 has no body).
    var special: [Int: Answer] = [:]
}

/// Who may call an operation.
enum Access {
    /// Anyone: no credentials are read.
    case anyone
    /// A bearer token (or Basic with the token as password), or none for what anonymous callers may do.
    case optionalToken
    /// A bearer token.
    case token
}

/// One operation of the document.
struct Operation {
    var method: String
    /// The route's path as the router has it: `{name}` is a segment, `**` the rest of the path.
    var path: String
    var summary: String
    var dialect: Dialect
    var access: Access = .token
    var query: [(name: String, schema: Schema.JSON)] = []
    var headers: [(name: String, schema: Schema.JSON)] = []
    /// The request body: media type and schema.
    var body: [(type: String, schema: Schema.JSON)] = []
    var bodyRequired = false
    /// The answers besides the dialect's refusals.
    var answers: [Int: Answer]
    /// Refusals beyond the dialect's.
    var refusals: [Int] = []
    /// Refusals the dialect has but this operation never answers.
    var never: [Int] = []

    /// The path as OpenAPI writes it: `**` becomes `{path}`.
    var documentPath: String { path.replacingOccurrences(of: "**", with: "{path}") }

    func rendered() -> Schema.JSON {
        var parameters: [Schema.JSON] = []
        for segment in documentPath.split(separator: "/") where segment.hasPrefix("{") && segment.hasSuffix("}") {
            let name = String(segment.dropFirst().dropLast())
            var description = "a path segment"
            if name == "path" { description = "the rest of the path: segments separated by `/`" }
            var parameter: Schema.JSON = [
                "name": name, "in": "path", "required": true, "schema": ["type": "string", "minLength": 1], "description": description,
            ]
            if let example = Self.pathExamples[name] { parameter["example"] = example }
            parameters.append(parameter)
        }
        for (name, schema) in query { parameters.append(["name": name, "in": "query", "required": false, "schema": schema]) }
        for (name, schema) in headers { parameters.append(["name": name, "in": "header", "required": false, "schema": schema]) }
        var operation: Schema.JSON = [
            "summary": summary, "tags": [dialect.tag],
            "operationId":
                "\(method.lowercased())\(documentPath.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "").split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())",
        ]
        if !parameters.isEmpty { operation["parameters"] = parameters }
        if !body.isEmpty {
            var content: Schema.JSON = [:]
            for (type, schema) in body { content[type] = ["schema": schema] }
            operation["requestBody"] = ["required": bodyRequired, "content": content]
        }
        var responses: Schema.JSON = [:]
        for (status, answer) in answers { responses["\(status)"] = answer.rendered(Self.reason(status)) }
        // An operation anyone may call has no credentials to refuse, unless it names 401 or 403 itself.
        var statuses = Set(dialect.refusals)
        if access == .anyone { statuses.subtract([401, 403]) }
        statuses = statuses.union(refusals).subtracting(never)
        for status in statuses where responses["\(status)"] == nil {
            let answer = dialect.special[status] ?? (dialect.textErrors ? Answer.plain(dialect.error) : .json(dialect.error))
            responses["\(status)"] = answer.rendered(Self.reason(status))
        }
        operation["responses"] = responses
        switch access {
        case .anyone: operation["security"] = [Schema.JSON]()
        case .optionalToken: operation["security"] = [["bearer": [String]()], [:]]
        case .token: operation["security"] = [["bearer": [String]()]]
        }
        return operation
    }

    /// Path parameters' examples: what `make test` stores before schemathesis runs (a repository, a worker, a
    /// permission target, a group and a build all named `libs`, a file `docs/readme.txt`, build number 1, a tenant
    /// `example`), so that its requests reach past "not found".
    static let pathExamples: [String: String] = [
        "repo": "libs", "key": "libs", "name": "libs", "path": "docs/readme.txt", "number": "1", "tenant": "example",
    ]

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 206: "Partial Content"
        case 304: "Not Modified"
        case 400: "Bad request: the message names the field and the reason"
        case 401: "No credentials, or credentials that are not valid"
        case 403: "The caller may not do this"
        case 404: "No such resource"
        case 405: "The method is not allowed here"
        case 409: "Conflict with what is stored"
        case 412: "A precondition failed"
        case 413: "The body is over its limit"
        case 415: "The body's media type is not one this operation takes"
        case 416: "The range is not satisfiable"
        case 429: "Too many requests waiting; try again"
        case 502: "The upstream failed"
        case 503: "Not available now (the database, the script engine, or no executor free)"
        default: "Status \(status)"
        }
    }
}
