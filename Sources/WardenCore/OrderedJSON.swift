import Foundation

/// JSON read as written: an object's members in their order, a repeated key kept as often as it is written. AQL
/// needs that (the reference ANDs a repeated key; a dictionary keeps only the last and widens the query), and
/// `JSONSerialization` cannot give it. Bounded: at most `maxDepth` nested arrays and objects, so hostile text cannot
/// exhaust the stack.
public indirect enum OrderedJSON: Sendable, Equatable {
    case object([Member])
    case array([OrderedJSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: OrderedJSON
    }

    public static let maxDepth = 64

    /// Reads one JSON value (any kind at the top) and nothing after it but white space.
    public static func parse(_ text: String) throws(OrderedJSONError) -> OrderedJSON {
        var reader = Reader(bytes: Array(text.utf8))
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw reader.error("text after the end of the value") }
        return value
    }

    public var members: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var elements: [OrderedJSON]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var text: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        func error(_ reason: String) -> OrderedJSONError { OrderedJSONError(offset: index, reason: reason) }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(OrderedJSONError) -> OrderedJSON {
            guard index < bytes.count else { throw error("the text ends where a value was expected") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                guard depth < OrderedJSON.maxDepth else { throw error("more than \(OrderedJSON.maxDepth) levels of nesting") }
                return try object(depth: depth + 1)
            case UInt8(ascii: "["):
                guard depth < OrderedJSON.maxDepth else { throw error("more than \(OrderedJSON.maxDepth) levels of nesting") }
                return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character '\(String(decoding: [bytes[index]], as: UTF8.self))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(OrderedJSONError) {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
                throw error("unexpected word")
            }
            index += expected.count
        }

        mutating func object(depth: Int) throws(OrderedJSONError) -> OrderedJSON {
            index += 1
            var members: [Member] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("an object's key must be a string in quotes") }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("':' expected after the key \"\(key.prefix(40))\"") }
                index += 1
                skipSpace()
                members.append(Member(key: key, value: try value(depth: depth)))
                skipSpace()
                guard index < bytes.count else { throw error("the object is never closed") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    throw error("',' or '}' expected in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(OrderedJSONError) -> OrderedJSON {
            index += 1
            var elements: [OrderedJSON] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipSpace()
                elements.append(try value(depth: depth))
                skipSpace()
                guard index < bytes.count else { throw error("the array is never closed") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                } else {
                    throw error("',' or ']' expected in an array")
                }
            }
        }

        mutating func string() throws(OrderedJSONError) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var runStart = index
            func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    flush(index)
                    index += 1
                    return String(scalars)
                }
                if byte < 0x20 { throw error("a control character inside a string") }
                if byte != UInt8(ascii: "\\") {
                    index += 1
                    continue
                }
                flush(index)
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        let mark = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = mark
                        }
                    }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: throw error("the escape '\\\(String(decoding: [escape], as: UTF8.self))' is not JSON")
                }
                runStart = index
            }
            throw error("the string is never closed")
        }

        mutating func hex4() throws(OrderedJSONError) -> UInt32 {
            guard bytes.count - index >= 4 else { throw error("'\\u' needs four hexadecimal digits") }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("'\\u' needs four hexadecimal digits")
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }

        mutating func number() throws(OrderedJSONError) -> Double {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let whole = digits()
            guard whole > 0 else { throw error("a number needs digits") }
            if whole > 1, bytes[index - whole] == UInt8(ascii: "0") { throw error("a number may not start with 0") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw error("a number needs digits after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("a number needs digits in its exponent") }
            }
            guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)), number.isFinite else {
                throw error("the number does not fit in a double")
            }
            return number
        }
    }
}

/// Why JSON text could not be read, and where (a byte offset).
public struct OrderedJSONError: Error, Sendable, Equatable {
    public var offset: Int
    public var reason: String
}
