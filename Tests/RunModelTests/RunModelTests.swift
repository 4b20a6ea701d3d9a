import Foundation
import Testing

@testable import RunModel

@Suite("Secret masking and JSON text")
struct MaskingTests {
    @Test func masksPlainAndEscapedForms() {
        let masker = SecretMasker(secrets: ["s3\"cr3t", "1"])
        #expect(masker.mask("value s3\"cr3t here") == "value *** here")
        #expect(masker.maskJSON(#"{"a":"s3\"cr3t","n":1,"k1":"x"}"#).contains("***"))
        // A number equal to a secret stays a number: masking never breaks JSON.
        let masked = masker.maskJSON(#"{"n":1,"s":"a1b"}"#)
        #expect(masked.contains(#""n":1"#))
        #expect(masked.contains(#""s":"a***b""#))
    }

    @Test func quotesControlCharacters() {
        #expect(JSONText.quote("a\"\\\n\u{01}\u{2028}") == #""a\"\\\n\u0001\u2028""#)
    }

    /// Whatever the string, its quoted form reads back as the same string (plain ones are copied whole).
    @Test func quotedStringsReadBackAsThemselves() throws {
        for text in ["", "plain/path-1.0.jar", "€ and “quotes”", "\u{2029}x", "tab\there", "\u{7F}\u{1F}", "a\\b", "emoji 🙂"] {
            var out = Array("[".utf8)
            JSONText.appendQuoted(text, to: &out)
            out.append(UInt8(ascii: "]"))
            let read = try JSONSerialization.jsonObject(with: Data(out)) as? [String]
            #expect(read == [text], "\(String(decoding: out, as: UTF8.self))")
        }
        #expect(JSONText.quote("plain") == #""plain""#)
    }

    @Test func egressPolicyAllowsOnlyListedHosts() {
        let policy = EgressPolicy(allowedHosts: ["api.example.com", "*.corp.test"])
        #expect(policy.refusal(for: "https://api.example.com/x") == nil)
        #expect(policy.refusal(for: "https://a.corp.test/") == nil)
        #expect(policy.refusal(for: "https://corp.test.evil.com/") != nil)
        #expect(policy.refusal(for: "ftp://api.example.com/") != nil)
        #expect(policy.refusal(for: "/relative") != nil)
        #expect(EgressPolicy().refusal(for: "https://api.example.com/") != nil)
    }

    @Test func egressPortsAreListedAndInternalAddressesRefused() {
        let policy = EgressPolicy(allowedHosts: ["api.example.com", "hooks.example.com:8443", "localhost", "127.0.0.1", "*.corp.test:9000"])
        #expect(policy.refusal(for: "https://api.example.com/") == nil)
        #expect(policy.refusal(for: "http://api.example.com/") == nil)
        #expect(policy.refusal(for: "https://api.example.com:8080/") != nil)
        #expect(policy.refusal(for: "https://hooks.example.com:8443/") == nil)
        #expect(policy.refusal(for: "https://hooks.example.com/") != nil)
        #expect(policy.refusal(for: "http://a.corp.test:9000/") == nil)
        #expect(policy.refusal(for: "http://a.corp.test/") != nil)
        // Listed names that resolve inside: refused unless also listed as private.
        #expect(policy.addressRefusal(host: "localhost", port: 80)?.contains("internal address") == true)
        #expect(policy.addressRefusal(host: "127.0.0.1", port: 80)?.contains("internal address") == true)
        #expect(EgressPolicy(allowedHosts: ["localhost"], privateHosts: ["localhost"]).addressRefusal(host: "localhost", port: 80) == nil)
        for address in [
            "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1",
        ] {
            #expect(EgressPolicy.isInternal(address), "\(address)")
        }
        for address in ["93.184.216.34", "172.32.0.1", "2606:4700::1111", "8.8.8.8"] {
            #expect(!EgressPolicy.isInternal(address), "\(address)")
        }
    }
}

@Suite("Hex")
struct HexTests {
    @Test func encodesEveryByteLowerCase() {
        #expect(Hex.string([0x00, 0x0f, 0x10, 0xab, 0xff]) == "000f10abff")
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.string(0...255).count == 512)
    }
}
