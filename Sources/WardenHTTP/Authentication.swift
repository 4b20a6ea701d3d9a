import Foundation
import Hummingbird
import WardenCore

/// Reads `Authorization: Bearer <token>` or `Basic base64(user:token)` and asks the core who that is.
struct RequestAuthenticator: Sendable {
    let authenticator: Authenticator

    /// Where a dialect's clients put their credentials.
    enum Credentials: Sendable {
        /// `Authorization: Bearer <token>` or `Basic base64(user:token)`; required.
        case authorization
        /// The artifact API's `X-JFrog-Art-Api` key, else `Authorization`; none is an anonymous caller (what it may
        /// read is the core's to say), a wrong one is refused.
        case artifactKey
        /// GitLab's `PRIVATE-TOKEN: <token>`, else `Authorization`; required.
        case privateToken
        /// The agents API's `Authorization: token <token>` (Bearer and Basic too); required.
        case tokenScheme
    }

    /// The caller `request` names in the places `credentials` says; `nil` only for an anonymous artifact caller.
    func caller(of request: Request, _ credentials: Credentials) async throws -> Principal? {
        switch credentials {
        case .authorization:
            return try await principal(for: request)
        case .artifactKey:
            if let key = request.headers[.xJFrogArtApi], !key.isEmpty { return try await authenticator.principal(forToken: key) }
            return request.headers[.authorization] == nil ? nil : try await principal(for: request)
        case .privateToken:
            if let token = request.headers[.privateToken], !token.isEmpty { return try await authenticator.principal(forToken: token) }
            return try await principal(for: request)
        case .tokenScheme:
            guard let header = request.headers[.authorization], !header.isEmpty else {
                throw WardenError(.unauthorized, "send Authorization: token <token>")
            }
            if header.lowercased().hasPrefix("token ") {
                return try await authenticator.principal(forToken: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
            }
            return try await principal(for: request)
        }
    }

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
