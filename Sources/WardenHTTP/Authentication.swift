import Foundation
import Hummingbird
import WardenCore

/// Reads `Authorization: Bearer <token>` or `Basic base64(user:token)` and asks the core who that is.
struct RequestAuthenticator: Sendable {
    let authenticator: Authenticator

    func principal(for request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization], !header.isEmpty else {
            throw WardenError(.unauthorized, "credentials are required: send Authorization: Bearer <token>")
        }
        let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw WardenError(.unauthorized, "the Authorization header is not 'Bearer <token>' or 'Basic <credentials>'") }
        switch parts[0].lowercased() {
        case "bearer":
            return try await authenticator.principal(forToken: parts[1].trimmingCharacters(in: .whitespaces))
        case "basic":
            guard let data = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
            else { throw WardenError(.unauthorized, "the Basic credentials are not base64 of user:token") }
            return try await authenticator.principal(forToken: String(text[text.index(after: colon)...]))
        default:
            throw WardenError(.unauthorized, "unsupported authorization scheme '\(parts[0])'; use Bearer or Basic")
        }
    }
}
