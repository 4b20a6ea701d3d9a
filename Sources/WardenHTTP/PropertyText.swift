import WardenCore

/// Properties written in a URL, as the reference reads them: properties apart by an unescaped separator, a name and
/// its values apart by the first unescaped `=`, values apart by an unescaped `,` or by `\;`; a `\` before any other
/// character keeps that character as itself (`\,` `\=` `\|` `\\`).
enum PropertyText {
    static let backslash = UInt8(ascii: "\\")

    /// The storage API's `properties` parameter as the reference documents it: `;` (or `|`) between properties, `,`
    /// (or `\;`) between values, and a `\` before `,` `|` `=` `\` to take it as itself: `a=1,2;b=x\,y` is `a` with
    /// the values `1` and `2`, and `b` with the one value `x,y`.
    static func storageParameter(_ text: String) -> ArtifactProperties {
        properties(split(text, separators: [UInt8(ascii: ";"), UInt8(ascii: "|")])[...])
    }

    /// `name;k=v;k2=v2,v3` (a path segment) → the name and its matrix properties, with the same escapes.
    static func matrix(_ segment: String) -> (String, ArtifactProperties) {
        guard segment.utf8.contains(UInt8(ascii: ";")) else { return (segment, [:]) }
        let parts = split(segment, separators: [UInt8(ascii: ";")])
        return (parts.first ?? "", properties(parts.dropFirst()))
    }

    /// `text` cut at every unescaped byte of `separators`; escapes are kept for the later cuts.
    static func split(_ text: String, separators: Set<UInt8>) -> [String] {
        var parts: [String] = []
        var current: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                current.append(byte)
                escaped = false
            } else if byte == backslash {
                current.append(byte)
                escaped = true
            } else if separators.contains(byte) {
                parts.append(String(decoding: current, as: UTF8.self))
                current = []
            } else {
                current.append(byte)
            }
        }
        parts.append(String(decoding: current, as: UTF8.self))
        return parts
    }

    /// `name=v1,v2` pieces (escapes still in them) → properties; an empty piece is skipped, a piece without `=` is a
    /// name with one empty value.
    static func properties(_ pieces: ArraySlice<String>) -> ArtifactProperties {
        var properties: ArtifactProperties = [:]
        for piece in pieces where !piece.isEmpty {
            let (name, rest) = nameAndValues(piece)
            let values: [String]
            if let rest {
                values = valueTexts(rest).map(unescape)
            } else {
                values = [""]
            }
            properties[unescape(name), default: []].append(contentsOf: values)
        }
        return properties
    }

    /// The piece cut at its first unescaped `=`.
    static func nameAndValues(_ piece: String) -> (String, String?) {
        var escaped = false
        let bytes = Array(piece.utf8)
        for (index, byte) in bytes.enumerated() {
            if escaped {
                escaped = false
            } else if byte == backslash {
                escaped = true
            } else if byte == UInt8(ascii: "=") {
                return (String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 1)...], as: UTF8.self))
            }
        }
        return (piece, nil)
    }

    /// Values cut at an unescaped `,` and at `\;` (the reference's other value separator).
    static func valueTexts(_ text: String) -> [String] {
        var values: [String] = []
        var current: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                escaped = false
                if byte == UInt8(ascii: ";") {
                    current.removeLast()
                    values.append(String(decoding: current, as: UTF8.self))
                    current = []
                } else {
                    current.append(byte)
                }
            } else if byte == backslash {
                current.append(byte)
                escaped = true
            } else if byte == UInt8(ascii: ",") {
                values.append(String(decoding: current, as: UTF8.self))
                current = []
            } else {
                current.append(byte)
            }
        }
        values.append(String(decoding: current, as: UTF8.self))
        return values
    }

    /// Every `\x` → `x`; a lone `\` at the end stays.
    static func unescape(_ text: String) -> String {
        guard text.utf8.contains(backslash) else { return text }
        var out: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                out.append(byte)
                escaped = false
            } else if byte == backslash {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        if escaped { out.append(backslash) }
        return String(decoding: out, as: UTF8.self)
    }
}
