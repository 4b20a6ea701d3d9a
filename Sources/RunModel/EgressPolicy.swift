import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which outbound hosts `context.clients.axios` may reach: exact names or `*.suffix` patterns, each with an optional
/// `:port` (without one, only the scheme's own port: 80 for http, 443 for https; `:*` for any). Empty by default, which allows
/// nothing. A name on the list that resolves to a loopback, private, link-local or otherwise internal address is
/// refused too, unless it is on `privateHosts` as well: an allowed name is no way into the server's own network.
public struct EgressPolicy: Sendable, Equatable {
    public var allowedHosts: [String]
    /// Hosts allowed to resolve to internal addresses (same patterns).
    public var privateHosts: [String]

    public init(allowedHosts: [String] = [], privateHosts: [String] = []) {
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
        self.privateHosts = privateHosts.map { $0.lowercased() }
    }

    /// Nil when `url` may be reached by its name and port; otherwise why not. (The addresses it resolves to are
    /// checked by `addressRefusal`, just before connecting.)
    public func refusal(for url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(),
            !host.isEmpty
        else { return "'\(url)' is not an absolute http(s) URL" }
        guard scheme == "http" || scheme == "https" else { return "only http and https are allowed, not \(scheme)" }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65_535).contains(port) else { return "port \(port) is not a TCP port" }
        guard Self.matches(allowedHosts, host: host, port: port, defaultPort: scheme == "https" ? 443 : 80) else {
            return "host '\(host)' port \(port) is not on this server's egress allow-list"
        }
        return nil
    }

    /// Nil when `url` may be reached now: by its name and port, and by every address its host resolves to (looked up
    /// just before connecting; a name whose answer changes between this look-up and the connection, DNS rebinding,
    /// is the remaining gap, documented in docs/security.md).
    public func connectionRefusal(for url: String) -> String? {
        if let refusal = refusal(for: url) { return refusal }
        guard let components = URLComponents(string: url), let host = components.host else { return "'\(url)' has no host" }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        return addressRefusal(host: host, port: port)
    }

    /// Nil when every address `host` resolves to may be reached; otherwise why not.
    public func addressRefusal(host rawHost: String, port: Int) -> String? {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if Self.matches(privateHosts, host: host, port: port, defaultPort: port) { return nil }
        let addresses = Self.resolve(host)
        guard !addresses.isEmpty else { return "host '\(host)' does not resolve" }
        if let inner = addresses.first(where: Self.isInternal) {
            return "host '\(host)' resolves to the internal address \(inner); list it in warden.egress.privateHosts to allow that"
        }
        return nil
    }

    static func matches(_ patterns: [String], host: String, port: Int, defaultPort: Int) -> Bool {
        patterns.contains { entry in
            var pattern = Substring(entry)
            var wanted: Int? = defaultPort
            if let colon = entry.lastIndex(of: ":"), !entry.hasSuffix("]") {
                let suffix = entry[entry.index(after: colon)...]
                if suffix == "*" {
                    pattern = entry[..<colon]
                    wanted = nil
                } else if let number = Int(suffix) {
                    pattern = entry[..<colon]
                    wanted = number
                }
            }
            if let wanted, wanted != port { return false }
            return pattern.hasPrefix("*.") ? host.hasSuffix(pattern.dropFirst(1)) : host == pattern
        }
    }

    /// The numeric addresses of `host` (itself when it is one).
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = entry.pointee.ai_addr,
                getnameinfo(address, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
            {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    /// Loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT, unspecified, multicast and
    /// IPv4-mapped forms of those.
    static func isInternal(_ address: String) -> Bool {
        var text = address.lowercased()
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        if text.hasPrefix("::ffff:"), text.contains(".") { text = String(text.dropFirst(7)) }
        let octets = text.split(separator: ".").compactMap { UInt8($0) }
        if octets.count == 4 {
            switch (octets[0], octets[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168), (255, _): return true
            case (172, 16...31), (100, 64...127), (198, 18...19): return true
            case (224...239, _): return true
            default: return false
            }
        }
        if text == "::" || text == "::1" { return true }
        return text.hasPrefix("fc") || text.hasPrefix("fd") || text.hasPrefix("fe8") || text.hasPrefix("fe9") || text.hasPrefix("fea")
            || text.hasPrefix("feb") || text.hasPrefix("ff")
    }
}
