import Testing

@testable import WorkerRuntime

@Suite("Wire protocol")
struct WireTests {
    @Test func runRequestRoundTrips() throws {
        let request = RunRequest(
            runID: 7, contextKey: "k#h", module: CompiledModule(javaScript: "x", lineMap: [0, 3, -1], sourceHash: "h"), evict: ["a", "b"],
            infoJSON: "{}", dataJSON: "\"é\"", debug: true,
            limits: RunLimits(cpuMillis: 5, wallMillis: 6, memoryBytes: 7, maxOutputBytes: 8, maxLogBytes: 9))
        var frame = request.encode()
        #expect(frame.count == Int(UInt32(frame[0]) | UInt32(frame[1]) << 8) + 4)
        frame.removeFirst(4)
        var reader = WireReader(frame)
        #expect(try reader.u8() == MessageTag.run.rawValue)
        let decoded = try RunRequest.decode(&reader)
        #expect(decoded.module == request.module)
        #expect(decoded.evict == ["a", "b"])
        #expect(decoded.limits == request.limits)
        #expect(decoded.dataJSON == "\"é\"")
    }

    @Test func truncatedFramesAreRejected() {
        var reader = WireReader([1, 2])
        #expect(throws: WireError.truncated) { try reader.u32() }
        var strings = WireReader([5, 0, 0, 0, 65])
        #expect(throws: WireError.truncated) { try strings.string() }
    }

    @Test func everyReplyOutcomeRoundTrips() throws {
        let outcomes: [RunOutcome] = [
            .success(resultJSON: nil), .success(resultJSON: "{}"), .threw(WorkerError(type: "T", message: "m", line: 4)), .cpuLimit, .wallLimit,
            .memoryLimit, .floatingPromise, .outputTooLarge(bytes: 12),
        ]
        for outcome in outcomes {
            var frame = RunReply(
                runID: 1, outcome: outcome, logs: "l", stateJSON: "", stats: RunStats(cpuNanos: 1), contextDiscarded: true, recycle: false
            ).encode()
            frame.removeFirst(5)
            var reader = WireReader(frame)
            let reply = try RunReply.decode(&reader)
            #expect(reply.outcome == outcome)
            #expect(reply.contextDiscarded)
        }
    }
}

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
