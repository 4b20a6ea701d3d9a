import Foundation
import RunModel

// How host calls cross the executor's wire: the prelude's request JSON in, the response JSON back.

extension HostCall {
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

extension HostResponse {
    var json: String {
        let headerText = headers.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(JSONText.quote($0.value))" }.joined(separator: ",")
        return "{\"status\":\(status),\"headers\":{\(headerText)},\"body\":\(JSONText.quote(body))}"
    }
}
