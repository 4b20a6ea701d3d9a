import Foundation

/// The AQL subset Warden answers: `items.find({...}).include(...).sort({...}).offset(n).limit(n)` with criteria on
/// repo, path, name, type, size, created, modified, updated, created_by, modified_by, checksums, stat.downloaded,
/// stat.downloads and properties (`"@key"`, `property.key`, `property.value`, `$msp`); a key repeated in one object is
/// ANDed, as the reference does. Anything else is refused naming the part that is not supported.
public struct AQLQuery: Sendable {
    indirect enum Criterion: Sendable {
        case all([Criterion])
        case any([Criterion])
        /// `$msp`: every part holds for one and the same property (key and value together).
        case singleProperty([Criterion])
        case compare(field: String, op: String, value: AQLValue)
    }

    enum AQLValue: Sendable {
        case text(String)
        case number(Double)
        case null
    }

    let criterion: Criterion
    let include: [String]?
    let sort: (ascending: Bool, fields: [String])?
    let offset: Int
    let limit: Int?
    /// The repositories the criteria pin (`"repo": "x"` or `$or` of those at the top level), to read less.
    public let repositoryKeys: Set<String>?

    static let fields: Set<String> = [
        "repo", "path", "name", "type", "size", "created", "modified", "updated", "created_by", "modified_by", "sha256", "actual_sha1",
        "actual_md5", "stat.downloaded", "stat.downloads",
    ]
    /// Criteria on any of an item's properties: `property.key` and `property.value`.
    static let propertyFields: Set<String> = ["property.key", "property.value"]
    static let operators: Set<String> = ["$eq", "$ne", "$match", "$nmatch", "$lt", "$lte", "$gt", "$gte", "$before", "$last"]
    static let basicFields = ["repo", "path", "name", "type", "size", "created", "created_by", "modified", "modified_by", "updated"]

    // MARK: Parsing

    public static func parse(_ text: String) throws(WardenError) -> AQLQuery {
        var scanner = AQLScanner(text: Array(text.utf8))
        scanner.skipSpace()
        guard scanner.consume("items.find(") else {
            let domain = String(decoding: scanner.text.prefix { $0 != UInt8(ascii: "(") }.prefix(40), as: UTF8.self)
            throw WardenError(.badRequest, "AQL: only items.find(...) is supported, not '\(domain)'")
        }
        let criteriaText = try scanner.argument(of: "find")
        guard let members = try json(criteriaText.isEmpty ? "{}" : criteriaText, part: "items.find").members else {
            throw WardenError(.badRequest, "AQL: items.find takes an object of criteria")
        }
        let criterion = try parseObject(members)
        var include: [String]?
        var sort: (Bool, [String])?
        var offset = 0
        var limit: Int?
        while true {
            scanner.skipSpace()
            if scanner.atEnd { break }
            guard scanner.consume(".") else { throw WardenError(.badRequest, "AQL: unexpected text '\(scanner.rest(20))'") }
            let name = scanner.word()
            guard scanner.consume("(") else { throw WardenError(.badRequest, "AQL: '.\(name)' must be followed by '('") }
            let argument = try scanner.argument(of: name)
            switch name {
            case "include":
                guard let elements = try json("[\(argument)]", part: "include").elements else {
                    throw WardenError(.badRequest, "AQL: include takes field names in quotes")
                }
                var names: [String] = []
                for element in elements {
                    guard let field = element.text else { throw WardenError(.badRequest, "AQL: include takes field names in quotes") }
                    guard isIncludable(field) else { throw WardenError(.badRequest, "AQL: include of '\(field)' is not supported") }
                    names.append(field)
                }
                include = names
            case "sort":
                guard let members = try json(argument, part: "sort").members, members.count == 1,
                    members[0].key == "$asc" || members[0].key == "$desc", let elements = members[0].value.elements, !elements.isEmpty
                else { throw WardenError(.badRequest, "AQL: sort takes {\"$asc\": [fields]} or {\"$desc\": [fields]}") }
                var names: [String] = []
                for element in elements {
                    guard let field = element.text, basicFields.contains(field) else {
                        throw WardenError(.badRequest, "AQL: sort by '\(element.text ?? "a value that is not a field name")' is not supported")
                    }
                    names.append(field)
                }
                sort = (members[0].key == "$asc", names)
            case "offset", "limit":
                guard let number = Int(argument.trimmingCharacters(in: .whitespaces)), number >= 0 else {
                    throw WardenError(.badRequest, "AQL: \(name) takes a whole number, not '\(argument)'")
                }
                if name == "offset" { offset = number } else { limit = number }
            default:
                throw WardenError(.badRequest, "AQL: .\(name)() is not supported (supported: include, sort, offset, limit)")
            }
        }
        return AQLQuery(
            criterion: criterion, include: include, sort: sort.map { (ascending: $0.0, fields: $0.1) }, offset: offset, limit: limit,
            repositoryKeys: pinnedRepositories(criterion))
    }

    /// The argument's JSON as written: a key repeated in one object is kept each time (and ANDed, as the reference
    /// does), where a dictionary would keep the last and widen the query.
    static func json(_ text: String, part: String) throws(WardenError) -> OrderedJSON {
        do {
            return try OrderedJSON.parse(text)
        } catch {
            throw WardenError(
                .badRequest, "AQL: the argument of \(part) is not valid JSON (\(error.reason) at byte \(error.offset)): \(text.prefix(80))")
        }
    }

    static func isIncludable(_ field: String) -> Bool {
        fields.contains(field)
            || ["*", "property", "property.*", "property.key", "property.value", "stat", "stat.*", "stat.downloaded_by"].contains(field)
            || field.hasPrefix("@")
    }

    /// An object's criteria, every one of them ANDed in the order written (a repeated key included).
    static func parseObject(_ members: [OrderedJSON.Member]) throws(WardenError) -> Criterion {
        var parts: [Criterion] = []
        for member in members {
            let key = member.key
            if key == "$and" || key == "$or" || key == "$msp" {
                guard let list = member.value.elements else { throw WardenError(.badRequest, "AQL: \(key) takes an array of criteria") }
                var inner: [Criterion] = []
                for element in list {
                    guard let object = element.members else { throw WardenError(.badRequest, "AQL: each member of \(key) is an object") }
                    inner.append(try parseObject(object))
                }
                if key == "$msp" {
                    for part in inner where !onProperties(part) {
                        throw WardenError(.badRequest, "AQL: $msp takes criteria on properties only (\"@key\", property.key, property.value)")
                    }
                    parts.append(.singleProperty(inner))
                } else {
                    parts.append(key == "$and" ? .all(inner) : .any(inner))
                }
            } else if key.hasPrefix("$") {
                throw WardenError(.badRequest, "AQL: '\(key)' is not supported here (supported: $and, $or, $msp)")
            } else {
                guard fields.contains(key) || propertyFields.contains(key) || (key.hasPrefix("@") && key.count > 1) else {
                    throw WardenError(.badRequest, "AQL: criteria on '\(key)' are not supported")
                }
                if let operations = member.value.members {
                    guard !operations.isEmpty else { throw WardenError(.badRequest, "AQL: the criterion on '\(key)' names no operator") }
                    for operation in operations {
                        let op = operation.key
                        guard operators.contains(op) else { throw WardenError(.badRequest, "AQL: operator '\(op)' is not supported") }
                        let value = try aqlValue(operation.value, field: key)
                        if op == "$before" || op == "$last" {
                            guard case .text(let text) = value, relativeMillis(text) != nil else {
                                throw WardenError(
                                    .badRequest, "AQL: \(op) on '\(key)' takes a time span such as \"30d\" or \"12h\" that fits in 292 million years")
                            }
                        }
                        if op == "$match" || op == "$nmatch", case .text(let text) = value, text.utf8.count > AntPattern.maxPatternBytes {
                            throw WardenError(.badRequest, "AQL: the \(op) pattern for '\(key)' is longer than \(AntPattern.maxPatternBytes) bytes")
                        }
                        parts.append(.compare(field: key, op: op, value: value))
                    }
                } else {
                    parts.append(.compare(field: key, op: "$eq", value: try aqlValue(member.value, field: key)))
                }
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    static func onProperties(_ criterion: Criterion) -> Bool {
        switch criterion {
        case .compare(let field, _, _): return field.hasPrefix("@") || propertyFields.contains(field)
        case .all(let parts), .any(let parts), .singleProperty(let parts): return parts.allSatisfy(onProperties)
        }
    }

    static func aqlValue(_ value: OrderedJSON, field: String) throws(WardenError) -> AQLValue {
        switch value {
        case .null: return .null
        case .bool: throw WardenError(.badRequest, "AQL: the value for '\(field)' must be a string, a number or null, not a boolean")
        case .number(let number):
            // Every number is compared as a whole number of bytes, milliseconds or downloads, or as text: one that
            // does not fit in 64 bits matches nothing any item can have, and is refused rather than trapped on.
            guard Checked.int64(number) != nil else {
                throw WardenError(.badRequest, "AQL: the number for '\(field)' does not fit in a 64-bit integer")
            }
            return .number(number)
        case .string(let text): return .text(text)
        case .object, .array: throw WardenError(.badRequest, "AQL: the value for '\(field)' must be a string, a number or null")
        }
    }

    static func pinnedRepositories(_ criterion: Criterion) -> Set<String>? {
        switch criterion {
        case .compare(field: "repo", op: "$eq", value: .text(let key)): return [key]
        case .all(let parts):
            return parts.lazy.compactMap { pinnedRepositories($0) }.first
        case .any(let parts):
            var keys: Set<String> = []
            for part in parts {
                guard let pinned = pinnedRepositories(part) else { return nil }
                keys.formUnion(pinned)
            }
            return keys
        default: return nil
        }
    }

    // MARK: Evaluation

    /// Evaluates the query; `overBudget` is asked every 256 rows, and a `true` stops the search (it answers `nil`).
    public func evaluate(
        _ rows: [(ArtifactItem, ArtifactProperties)], now: Int64, overBudget: () -> Bool = { false }
    ) -> AQLResult? {
        let wantsType = Self.mentions("type", criterion)
        var matched: [(ArtifactItem, ArtifactProperties)] = []
        for (index, row) in rows.enumerated() {
            if index & 255 == 255, overBudget() { return nil }
            guard !row.0.path.isEmpty else { continue }
            if !wantsType && row.0.isFolder { continue }
            if Self.holds(criterion, row.0, row.1, now: now) { matched.append(row) }
        }
        if let sort {
            matched.sort { left, right in
                for field in sort.fields {
                    let a = Self.sortKey(field, left.0)
                    let b = Self.sortKey(field, right.0)
                    if a != b { return sort.ascending ? a < b : a > b }
                }
                return false
            }
        }
        let page = Array(matched.dropFirst(offset).prefix(limit ?? Int.max))
        let results = page.map { render($0.0, $0.1) }
        return AQLResult(results: results, start: offset, end: offset + page.count, total: page.count, limit: limit)
    }

    static func mentions(_ field: String, _ criterion: Criterion) -> Bool {
        switch criterion {
        case .compare(let name, _, _): return name == field
        case .all(let parts), .any(let parts), .singleProperty(let parts): return parts.contains { mentions(field, $0) }
        }
    }

    static func sortKey(_ field: String, _ item: ArtifactItem) -> String {
        switch field {
        case "size": return String(format: "%020lld", item.size)
        case "created", "modified", "updated": return String(format: "%020lld", timeField(field, item) ?? 0)
        default: return textField(field, item) ?? ""
        }
    }

    static func aqlPath(_ item: ArtifactItem) -> String { item.parentPath.map { $0.isEmpty ? "." : $0 } ?? "." }

    static func textField(_ field: String, _ item: ArtifactItem) -> String? {
        switch field {
        case "repo": return item.repo
        case "path": return aqlPath(item)
        case "name": return item.name
        case "type": return item.isFolder ? "folder" : "file"
        case "created_by": return item.createdBy
        case "modified_by": return item.modifiedBy
        case "sha256": return item.isFolder ? nil : item.sha256
        case "actual_sha1": return item.isFolder ? nil : item.sha1
        case "actual_md5": return item.isFolder ? nil : item.md5
        default: return nil
        }
    }

    static func timeField(_ field: String, _ item: ArtifactItem) -> Int64? {
        switch field {
        case "created": return item.createdAt
        case "modified": return item.modifiedAt
        case "updated": return item.updatedAt
        case "stat.downloaded": return item.lastDownloaded
        default: return nil
        }
    }

    static func holds(_ criterion: Criterion, _ item: ArtifactItem, _ properties: ArtifactProperties, now: Int64) -> Bool {
        switch criterion {
        case .all(let parts): return parts.allSatisfy { holds($0, item, properties, now: now) }
        case .any(let parts): return parts.contains { holds($0, item, properties, now: now) }
        case .singleProperty(let parts):
            return properties.contains { key, values in
                values.contains { value in parts.allSatisfy { holds($0, item, [key: [value]], now: now) } }
            }
        case .compare(let field, let op, let value):
            if propertyFields.contains(field) {
                // Any property's key (or any value of any property) satisfies the comparison; the negative operators
                // hold when none does, as they do for "@key".
                let texts = field == "property.key" ? Array(properties.keys) : properties.values.flatMap { $0 }
                if op == "$ne" || op == "$nmatch" {
                    let positive = op == "$ne" ? "$eq" : "$match"
                    return !texts.contains { compareText($0, positive, value) }
                }
                if case .null = value { return texts.isEmpty }
                return texts.contains { compareText($0, op, value) }
            }
            if field.hasPrefix("@") {
                let values = properties[String(field.dropFirst())] ?? []
                if op == "$ne" || op == "$nmatch" {
                    let positive = op == "$ne" ? "$eq" : "$match"
                    return !values.contains { compareText($0, positive, value) }
                }
                if case .null = value { return values.isEmpty }
                return values.contains { compareText($0, op, value) }
            }
            if field == "type", case .text("any") = value { return op == "$eq" }
            if field == "size" || field == "stat.downloads" {
                let number = Double(field == "size" ? item.size : item.downloadCount)
                if case .null = value { return (op == "$eq") == (field == "stat.downloads" && item.downloadCount == 0) }
                return compareNumber(number, op, value)
            }
            if ["created", "modified", "updated", "stat.downloaded"].contains(field) {
                guard let time = timeField(field, item) else {
                    if case .null = value { return op == "$eq" }
                    return op == "$ne"
                }
                if case .null = value { return op == "$ne" }
                if op == "$before" || op == "$last" {
                    guard case .text(let text) = value, let span = relativeMillis(text) else { return false }
                    let since = Checked.sum(now, -span)
                    return op == "$before" ? time < since : time >= since
                }
                let target: Double
                switch value {
                case .number(let number): target = number
                case .text(let text):
                    guard let millis = ISOTime.parse(text) else { return false }
                    target = Double(millis)
                case .null: return false
                }
                return compareNumber(Double(time), op, .number(target))
            }
            guard let text = textField(field, item) else {
                if case .null = value { return op == "$eq" }
                return op == "$ne" || op == "$nmatch"
            }
            return compareText(text, op, value)
        }
    }

    static func compareNumber(_ number: Double, _ op: String, _ value: AQLValue) -> Bool {
        let target: Double
        switch value {
        case .number(let n): target = n
        case .text(let text):
            guard let n = Double(text) else { return false }
            target = n
        case .null: return false
        }
        switch op {
        case "$eq": return number == target
        case "$ne": return number != target
        case "$lt": return number < target
        case "$lte": return number <= target
        case "$gt": return number > target
        case "$gte": return number >= target
        default: return false
        }
    }

    static func compareText(_ text: String, _ op: String, _ value: AQLValue) -> Bool {
        let target: String
        switch value {
        case .text(let t): target = t
        case .number(let n): target = n == n.rounded() ? Checked.int64(n).map { String($0) } ?? String(n) : String(n)
        case .null: return op == "$ne"
        }
        switch op {
        case "$eq": return text == target
        case "$ne": return text != target
        case "$match": return AntPattern.matchSegment(Array(target.utf8)[...], Array(text.utf8)[...])
        case "$nmatch": return !AntPattern.matchSegment(Array(target.utf8)[...], Array(text.utf8)[...])
        case "$lt": return text < target
        case "$lte": return text <= target
        case "$gt": return text > target
        case "$gte": return text >= target
        default: return false
        }
    }

    /// `"30d"`, `"2w"`, `"6mo"`, `"1y"`, `"12h"`, `"5mi"`, `"10s"`, `"100ms"` in milliseconds.
    static func relativeMillis(_ text: String) -> Int64? {
        let digits = text.prefix { $0.isNumber }
        guard let count = Int64(digits) else { return nil }
        let units: [String: Int64] = [
            "ms": 1, "s": 1_000, "mi": 60_000, "minutes": 60_000, "h": 3_600_000, "d": 86_400_000, "days": 86_400_000, "w": 604_800_000,
            "weeks": 604_800_000, "mo": 2_592_000_000, "months": 2_592_000_000, "y": 31_536_000_000, "years": 31_536_000_000,
        ]
        guard let unit = units[String(text.dropFirst(digits.count))] else { return nil }
        let (span, overflow) = count.multipliedReportingOverflow(by: unit)
        return overflow ? nil : span
    }

    func render(_ item: ArtifactItem, _ properties: ArtifactProperties) -> [String: Any] {
        let wanted = include ?? Self.basicFields
        let everything = wanted.contains("*")
        var fields = Set(wanted.filter { Self.fields.contains($0) })
        if everything { fields.formUnion(Self.basicFields + ["sha256", "actual_sha1", "actual_md5"]) }
        if include != nil { fields.formUnion(["repo", "path", "name"]) }
        var row: [String: Any] = [:]
        for field in fields.subtracting(["stat.downloaded", "stat.downloads"]) {
            switch field {
            case "size": row[field] = item.size
            case "created", "modified", "updated": row[field] = ISOTime.format(millis: Self.timeField(field, item) ?? 0)
            default: if let text = Self.textField(field, item) { row[field] = text }
            }
        }
        let propertyNames = wanted.filter { $0.hasPrefix("@") }.map { String($0.dropFirst()) }
        if everything || wanted.contains(where: { $0.hasPrefix("property") }) || !propertyNames.isEmpty {
            let names = propertyNames.isEmpty ? properties.keys.sorted() : propertyNames.filter { properties[$0] != nil }
            row["properties"] = names.flatMap { name in (properties[name] ?? []).map { ["key": name, "value": $0] } }
        }
        if everything || wanted.contains(where: { $0.hasPrefix("stat") }) {
            var stat: [String: Any] = ["downloads": item.downloadCount]
            if let last = item.lastDownloaded { stat["downloaded"] = ISOTime.format(millis: last) }
            if let by = item.lastDownloadedBy { stat["downloaded_by"] = by }
            row["stats"] = [stat]
        }
        return row
    }
}

/// An AQL answer: `{results, range: {start_pos, end_pos, total[, limit]}}`.
public struct AQLResult: @unchecked Sendable {
    public var results: [[String: Any]]
    public var start: Int
    public var end: Int
    public var total: Int
    public var limit: Int?

    public var json: String {
        var range: [String: Any] = ["start_pos": start, "end_pos": end, "total": total]
        if let limit { range["limit"] = limit }
        return Payloads.json(["results": results, "range": range])
    }
}

/// Reads the call structure around AQL's JSON arguments.
struct AQLScanner {
    let text: [UInt8]
    var index = 0

    init(text: [UInt8]) { self.text = text }

    var atEnd: Bool { index >= text.count }

    mutating func skipSpace() {
        while index < text.count, text[index] == 32 || text[index] == 10 || text[index] == 13 || text[index] == 9 { index += 1 }
    }

    mutating func consume(_ literal: String) -> Bool {
        skipSpace()
        let bytes = Array(literal.utf8)
        guard text.count - index >= bytes.count, Array(text[index..<index + bytes.count]) == bytes else { return false }
        index += bytes.count
        return true
    }

    mutating func word() -> String {
        skipSpace()
        let start = index
        while index < text.count, (text[index] >= 97 && text[index] <= 122) || (text[index] >= 65 && text[index] <= 90) { index += 1 }
        return String(decoding: text[start..<index], as: UTF8.self)
    }

    func rest(_ count: Int) -> String { String(decoding: text[index...].prefix(count), as: UTF8.self) }

    /// The text up to the `)` that closes the call, skipping brackets and strings.
    mutating func argument(of name: String) throws(WardenError) -> String {
        let start = index
        var depth = 0
        var inString = false
        while index < text.count {
            let byte = text[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "(") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ")") {
                if depth == 0 {
                    let argument = String(decoding: text[start..<index], as: UTF8.self)
                    index += 1
                    return argument.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                depth -= 1
            }
            index += 1
        }
        throw WardenError(.badRequest, "AQL: the '(' of \(name) is never closed")
    }
}
