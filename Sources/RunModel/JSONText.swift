import Foundation

/// JSON text built by hand on the run path, where JSONSerialization would cost more than the run itself.
public enum JSONText {
    public static func quote(_ string: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count + 2)
        appendQuoted(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `string` as a JSON string to UTF-8 bytes. Most strings need no escape: those are copied whole, the
    /// others scalar by scalar (quoting scalar by scalar into a `String` was ~3% of a hooked download, perf).
    public static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        out.append(0x22)
        // A quote, a backslash, a control character, or the lead byte of U+2028/U+2029 (and of other scalars, which
        // the slow way copies as they are).
        if string.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }) {
            var escaped = ""
            appendEscaped(string, to: &escaped)
            out.append(contentsOf: escaped.utf8)
        } else {
            out.append(contentsOf: string.utf8)
        }
        out.append(0x22)
    }

    static func appendEscaped(_ string: String, to out: inout String) {
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
    }

    /// Whether a number `JSONSerialization` read was a JSON `true`/`false` (it gives them as `NSNumber` too, and on
    /// Linux `is Bool` holds for 0 and 1).
    public static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    public static func object(_ pairs: [String: String]) -> String {
        "{" + pairs.sorted { $0.key < $1.key }.map { quote($0.key) + ":" + quote($0.value) }.joined(separator: ",") + "}"
    }
}
