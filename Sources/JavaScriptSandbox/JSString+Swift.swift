import CJavaScriptCore

/// Conversions between Swift strings and `JSStringRef`, in UTF-16 so that NUL characters and every code point cross
/// intact (the UTF-8 C-string API would stop at the first NUL).
enum JSStrings {
    /// A new `JSStringRef` the caller must release.
    static func create(_ string: String) -> JSStringRef {
        // Fast path: text without NUL (all JSON text) goes in as UTF-8 without building a UTF-16 copy.
        if !string.utf8.contains(0) {
            return string.withCString { JSStringCreateWithUTF8CString($0) }
        }
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
    ///
    /// JSC's own UTF-8 conversion is the fast path, but it stops at a lone surrogate; when the result is shorter than
    /// the string, the UTF-16 path (which repairs instead of stopping) is used.
    static func string(_ ref: JSStringRef) -> String {
        let length = JSStringGetLength(ref)
        guard length > 0 else { return "" }
        let capacity = JSStringGetMaximumUTF8CStringSize(ref)
        let fast = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer -> String in
            let count = JSStringGetUTF8CString(ref, buffer.baseAddress, capacity)
            guard count > 1 else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count - 1), as: UTF8.self)
        }
        if fast.utf16.count == length { return fast }
        guard let characters = JSStringGetCharactersPtr(ref) else { return fast }
        return String(decoding: UnsafeBufferPointer(start: characters, count: length), as: UTF16.self)
    }
}
