import RunModel
/// Makes a worker's result JSON safe for every parser after it: what leaves an executor is well-formed JSON text
/// that Foundation's parser accepts, or the run fails.
///
/// JavaScriptCore's `JSON.stringify` writes a lone surrogate (half of an emoji cut by `slice`) as the escape
/// `\ud83d`, which is valid to JSC and refused by Foundation; and JSC nests far deeper than Foundation parses. A
/// verdict the server cannot read must never be taken for consent, so both are settled here, in one linear pass:
/// lone surrogate escapes become U+FFFD and nesting past `maxDepth` is a failed run.
public enum ResultJSON {
    /// How deeply a result may nest (objects and arrays), well inside every parser the server uses.
    public static let maxDepth = 128

    public enum Problem: Error, Equatable {
        case tooDeep
    }

    /// `text` with lone surrogate escapes replaced, or `.tooDeep`.
    public static func normalise(_ text: String) -> Result<String, Problem> {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var copiedUpTo = 0
        var depth = 0
        var inString = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\"") {
                    inString = false
                } else if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    if bytes[index + 1] == UInt8(ascii: "u"), let unit = hex4(bytes, index + 2), (0xD800...0xDFFF).contains(unit) {
                        let paired: Bool
                        if unit <= 0xDBFF {  // a high half needs a low half right after it
                            paired =
                                index + 7 < bytes.count && bytes[index + 6] == UInt8(ascii: "\\") && bytes[index + 7] == UInt8(ascii: "u")
                                && hex4(bytes, index + 8).map { (0xDC00...0xDFFF).contains($0) } == true
                            if paired {
                                index += 12
                                continue
                            }
                        } else {
                            paired = false  // a low half reached here had no high half before it
                        }
                        output.append(contentsOf: bytes[copiedUpTo..<index])
                        output.append(contentsOf: Array("\\ufffd".utf8))
                        index += 6
                        copiedUpTo = index
                        continue
                    }
                    index += 2
                    continue
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
                if depth > maxDepth { return .failure(.tooDeep) }
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            }
            index += 1
        }
        if copiedUpTo == 0 { return .success(text) }
        output.append(contentsOf: bytes[copiedUpTo...])
        return .success(String(decoding: output, as: UTF8.self))
    }

    static func hex4(_ bytes: [UInt8], _ start: Int) -> UInt32? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[start..<start + 4] {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
