import Foundation
import JWTKit

/// How the tenant dialect checks its admin tokens (Zuul's authenticators): a JWT signed with HS256 (a shared secret)
/// or RS256 (a public key), with `aud`, `iss`, `exp` and `sub`, naming the tenants its bearer administers in the
/// `zuul.admin` claim (`*` for all). The Warden admin token is accepted as well.
public struct TenantAuthSettings: Sendable {
    public var hs256Secret: String?
    public var rs256PublicKeyPEM: String?
    public var issuer: String
    public var audience: String
    public var realm: String

    public init(
        hs256Secret: String? = nil, rs256PublicKeyPEM: String? = nil, issuer: String = "warden", audience: String = "warden", realm: String = "warden"
    ) {
        self.hs256Secret = hs256Secret
        self.rs256PublicKeyPEM = rs256PublicKeyPEM
        self.issuer = issuer
        self.audience = audience
        self.realm = realm
    }
}

/// A refusal of the tenant dialect's authentication, in Zuul's terms.
public struct TenantAuthError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No `Authorization` header: 401 `MissingAuthError`.
        case missing
        /// A token that does not verify: 401 with the reason.
        case invalid
        /// A valid token that does not administer the tenant: 403, empty body.
        case forbidden
    }

    public var kind: Kind
    public var error: String
    public var description: String
    public var realm: String
}

/// Who called: a token's subject and the tenants it administers.
public struct TenantAdmin: Sendable, Equatable {
    public var subject: String
    /// `nil`: every tenant.
    public var tenants: Set<String>?

    public func administers(_ tenant: String) -> Bool { tenants?.contains(tenant) ?? true }
}

public final class TenantAuthenticator: Sendable {
    let settings: TenantAuthSettings
    /// One key collection per algorithm: a token is verified only with the key of the algorithm its header names,
    /// and only an algorithm that is configured is accepted (`none`, or HS256 against an RS256 set-up, never are).
    let keys: [String: JWTKeyCollection]
    let wardenTokens: Authenticator?

    struct Claims: JWTPayload {
        var exp: ExpirationClaim
        var iss: IssuerClaim
        var aud: AudienceClaim
        var sub: SubjectClaim
        var nbf: NotBeforeClaim?
        var zuul: Zuul?

        struct Zuul: Codable, Sendable {
            var admin: [String]?
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try nbf?.verifyNotBefore()
        }
    }

    public init(settings: TenantAuthSettings, wardenTokens: Authenticator?) async throws {
        self.settings = settings
        self.wardenTokens = wardenTokens
        var keys: [String: JWTKeyCollection] = [:]
        if let secret = settings.hs256Secret {
            // HS256 wants a key at least as long as its output (RFC 7518 §3.2).
            guard secret.utf8.count >= 32 else { throw WardenError.invalid("tenant.auth.secret", "must be at least 32 bytes for HS256") }
            let collection = JWTKeyCollection()
            await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            keys["HS256"] = collection
        }
        if let pem = settings.rs256PublicKeyPEM {
            let collection = JWTKeyCollection()
            do {
                await collection.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256)
            } catch {
                throw WardenError.invalid("tenant.auth.publicKey", "is not an RSA public key in PEM (\(error))")
            }
            keys["RS256"] = collection
        }
        self.keys = keys
    }

    public var realm: String { settings.realm }

    func refuse(_ kind: TenantAuthError.Kind, _ error: String, _ description: String) -> TenantAuthError {
        TenantAuthError(kind: kind, error: error, description: description, realm: settings.realm)
    }

    /// The admin behind `authorization` (the whole header), allowed to act on `tenant`.
    public func admin(authorization: String?, tenant: String) async throws -> TenantAdmin {
        guard let authorization, !authorization.isEmpty else {
            throw refuse(.missing, "MissingAuthError", "Authorization header missing: send Authorization: Bearer <JWT>")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw refuse(.invalid, "AuthTokenInvalidError", "the Authorization header is not 'Bearer <token>'")
        }
        let token = parts[1]
        let admin: TenantAdmin
        if token.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            admin = try await verify(token)
            // A token that is neither a JWT nor a Warden token is refused below.
        } else if let principal = try? await wardenTokens?.principal(forToken: token) {
            guard principal.isAdmin else { throw refuse(.forbidden, "ForbiddenError", "only a Warden admin token administers tenants") }
            admin = TenantAdmin(subject: principal.name, tenants: nil)
        } else {
            throw refuse(.invalid, "AuthTokenInvalidError", "the token is neither a JWT nor a Warden token")
        }
        guard admin.administers(tenant) else {
            throw refuse(.forbidden, "ForbiddenError", "\(admin.subject) does not administer tenant \(tenant)")
        }
        return admin
    }

    func verify(_ token: String) async throws -> TenantAdmin {
        guard settings.hs256Secret != nil || settings.rs256PublicKeyPEM != nil else {
            throw refuse(.invalid, "AuthTokenInvalidError", "no JWT authenticator is configured (tenant.auth.secret or tenant.auth.publicKey)")
        }
        let algorithm = Self.headerAlgorithm(of: token) ?? ""
        guard let collection = keys[algorithm] else {
            throw refuse(
                .invalid, "AuthTokenInvalidError",
                "the token's algorithm '\(algorithm.prefix(20))' is not the configured \(keys.keys.sorted().joined(separator: " or "))")
        }
        let claims: Claims
        do {
            claims = try await collection.verify(token, as: Claims.self)
        } catch let error as JWTError {
            let reason = "\(error)"
            if reason.contains("exp") || reason.lowercased().contains("expir") {
                throw refuse(.invalid, "TokenExpiredError", "the token has expired")
            }
            if reason.contains("NotBeforeClaim") || reason.contains("too soon") {
                throw refuse(.invalid, "AuthTokenInvalidError", "the token is not valid yet (nbf)")
            }
            if reason.lowercased().contains("signature") {
                throw refuse(.invalid, "AuthTokenInvalidSignatureError", "the token's signature does not verify")
            }
            throw refuse(.invalid, "AuthTokenInvalidError", "the token is not valid: \(reason)")
        } catch {
            throw refuse(.invalid, "AuthTokenInvalidError", "the token is not valid: required claims are aud, iss, exp and sub")
        }
        guard claims.iss.value == settings.issuer else {
            throw refuse(.invalid, "IssuerUnknownError", "the issuer '\(claims.iss.value)' is not '\(settings.issuer)'")
        }
        do {
            try claims.aud.verifyIntendedAudience(includes: settings.audience)
        } catch {
            throw refuse(.invalid, "AuthTokenInvalidError", "the audience is not '\(settings.audience)'")
        }
        let admin = claims.zuul?.admin ?? []
        return TenantAdmin(subject: claims.sub.value, tenants: admin.contains("*") ? nil : Set(admin))
    }

    /// The `alg` of a JWT's header, read before anything is verified (only to choose the key).
    static func headerAlgorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first, header.utf8.count <= 4_096 else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            // Claims that are not a JSON object are refused below.
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }
}
