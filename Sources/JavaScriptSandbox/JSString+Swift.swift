import CJavaScriptCore

/// Conversions between Swift strings and `JSStringRef`, in UTF-16 so that NUL characters and every code point cross
/// intact (the UTF-8 C-string API would stop at the first NUL).
enum JSStrings {
    /// A new `JSStringRef` the caller must release.
    static func create(_ string: String) -> JSStringRef {
        let units = Array(string.utf16)
        return units.withUnsafeBufferPointer { buffer in
            JSStringCreateWithCharacters(buffer.baseAddress, buffer.count)
        }
    }

    /// Runs `body` with a temporary `JSStringRef`, released afterwards.
    static func with<T>(_ string: String, _ body: (JSStringRef) throws -> T) rethrows -> T {
        let ref = create(string)
        defer { JSStringRelease(ref) }
        return try body(ref)
    }

    /// The Swift form of a `JSStringRef`; lone surrogates become U+FFFD.
    static func string(_ ref: JSStringRef) -> String {
        let length = JSStringGetLength(ref)
        guard length > 0, let characters = JSStringGetCharactersPtr(ref) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: characters, count: length), as: UTF16.self)
    }
}
