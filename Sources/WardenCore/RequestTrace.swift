import Logging
import Synchronization

/// The id of the request a piece of work is for: set by the HTTP layer around each request (and echoed in its
/// `X-Request-Id`), carried by the asynchronous runs the request queued, kept as the `traceId` of each run's history
/// entry, and added to every log line written while it is set (`metadataProvider`).
public enum RequestTrace {
    @TaskLocal public static var id: String?

    /// A new id: 32 hexadecimal digits (the size of a W3C trace id): 64 random bits drawn once per process, then a
    /// counter. Unique, not secret: it costs no system call per request.
    public static func newID() -> String {
        RandomID.hex(processPrefix, UInt64(bitPattern: Int64(counter.wrappingAdd(1, ordering: .relaxed).newValue)), dashed: false)
    }

    static let processPrefix: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    static let counter = Atomic<Int>(0)

    /// A client's own `X-Request-Id` when it is 1 to 64 letters, digits, `-`, `_`, `.` or `:` (nothing a log line or
    /// a header could be made to say more with); `nil` otherwise, and a new id is made instead.
    public static func accepted(_ given: String?) -> String? {
        guard let given, (1...64).contains(given.utf8.count) else { return nil }
        let allowed = given.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"): true
            default: false
            }
        }
        return allowed ? given : nil
    }

    /// Adds `request=<id>` to a log line written inside a request (or a run it queued).
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id else { return [:] }
        return ["request": .string(id)]
    }
}
