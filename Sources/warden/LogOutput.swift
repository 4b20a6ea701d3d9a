import Foundation
import Logging
import RunModel
import Synchronization
import WardenCore

/// The server's log: one line per event on standard output, as text or as JSON (`--log-format`), from the level of
/// `--log-level` up. Every line has its time (UTC), level, logger and message, then its metadata: the request id
/// (`request`, from `RequestTrace` while a request or a run it queued is under way) and what the line is about.
struct LogOutput: LogHandler {
    enum Format: String, CaseIterable, Sendable { case text, json }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Makes every logger of the process write through `LogOutput`; once, before the first logger is made.
    static func bootstrap(level: Logger.Level, format: Format) {
        // A reader of standard output that went away must not stop the server: the write fails instead.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap(
            { label, provider in LogOutput(label: label, format: format, logLevel: level, metadataProvider: provider) },
            metadataProvider: RequestTrace.metadataProvider)
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let given = event.metadata { merged.merge(given) { _, new in new } }
        let time = Self.timestamp()
        let line: String
        switch format {
        case .text:
            var text = "\(time) \(event.level) \(label): \(Self.oneLine(event.message.description))"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(Self.textValue(value))" }
            line = text
        case .json:
            var object: [String: Any] = [:]
            for (key, value) in merged { object[["time", "level", "logger", "message"].contains(key) ? "meta.\(key)" : key] = Self.jsonValue(value) }
            object["time"] = time
            object["level"] = event.level.rawValue
            object["logger"] = label
            object["message"] = event.message.description
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            line = String(decoding: data, as: UTF8.self)
        }
        Self.write(line + "\n")
    }

    /// One write per line, lines never interleaved.
    static let output = Mutex(())

    static func write(_ line: String) {
        var line = line
        output.withLock { _ in
            line.withUTF8 { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(STDOUT_FILENO, base + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    /// `2026-12-07T06:35:16.526Z`, written digit by digit (Foundation's formatting costs more than the rest of a line).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int, then separator: UInt8) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
            out.append(separator)
        }
        digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
        digits(Int(now.tv_nsec / 1_000_000), 3, then: UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A message on one line: line breaks and other control characters are escaped.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A metadata value as `key=value` shows it: quoted (JSON's escapes) when it is empty or holds a space, a quote,
    /// `=` or a control character.
    static func textValue(_ value: Logger.Metadata.Value) -> String {
        let text: String
        switch value {
        case .string(let string): text = string
        case .stringConvertible(let convertible): text = convertible.description
        case .array, .dictionary:
            let data = (try? JSONSerialization.data(withJSONObject: jsonValue(value), options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        let plain = !text.isEmpty && !text.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 || $0.value == 0x7F }
        if plain { return text }
        return JSONText.quote(text)
    }

    static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible):
            if let number = convertible as? Int {
                number
            } else if let number = convertible as? Double, number.isFinite {
                number
            } else {
                convertible.description
            }
        case .array(let values): values.map(jsonValue)
        case .dictionary(let values): values.mapValues(jsonValue)
        }
    }
}
