import RunModel

/// Random identifiers without Foundation's `UUID()`, which on Linux opens and reads `/dev/urandom` on every call
/// (two system calls and a file of their own in every recorded run, measured with perf under wrk). The bits come
/// from the system's generator (`getrandom`), as a version 4 UUID's do. Every lower-case id the project makes
/// (tokens, runners, jobs, history entries, Zuul's uuids) comes from here.
public enum RandomID {
    /// A random UUID (version 4, RFC 9562 variant) in lower case: `8-4-4-4-12` hexadecimal digits.
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        // Read as 16 big-endian bytes: the version is the high nibble of byte 6, the variant the top bits of byte 8.
        let high: UInt64 = (generator.next() & ~0xF000) | 0x4000
        let low: UInt64 = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return hex(high, low, dashed: true)
    }

    /// A time-ordered UUID (version 7, RFC 9562): the milliseconds since 1970 in its first 48 bits, then 74 random
    /// bits. Ids made later sort later, so the history's index of them grows at its end, where a batch of new
    /// entries shares a page, and pruning takes the oldest from its start; a random id touched a page of its own
    /// anywhere in the index for each entry.
    public static func timeOrderedUUID(millis: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let time = UInt64(clamping: max(0, millis)) & 0xFFFF_FFFF_FFFF
        let high: UInt64 = time << 16 | 0x7000 | (generator.next() & 0x0FFF)
        let low: UInt64 = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return hex(high, low, dashed: true)
    }

    /// 128 random bits as 32 lower-case hexadecimal digits (trace ids, Zuul's uuids).
    public static func hex128() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next(), generator.next(), dashed: false)
    }

    /// A service id in the reference platform's form: 26 lower-case characters of Crockford's base32, starting
    /// `01` (a ULID's first characters until the 2080s), e.g. `01jd3z…`.
    public static func serviceID() -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = Array("01".utf8)
        var bits: UInt64 = generator.next()
        for index in 0..<24 {
            if index == 12 { bits = generator.next() }
            out.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ high: UInt64, _ low: UInt64, dashed: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for index in 0..<32 {
            if dashed, index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            let word = index < 16 ? high : low
            out.append(Hex.digit(UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (index % 16))) & 0x0f))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
