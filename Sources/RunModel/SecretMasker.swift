import Foundation

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
