import CJavaScriptCore

/// Owns one `JSContextGroupRef`: the JavaScriptCore VM that every context of an engine shares.
///
/// Contexts of one group share a heap and the execution time limit but not globals, so data of one worker never
/// reaches another worker's context except as JSON that the embedding copies.
final class ContextGroup {
    let ref: JSContextGroupRef

    init() throws(ScriptError) {
        guard let ref = JSContextGroupCreate() else {
            throw ScriptError(code: .engineUnavailable, message: "JSContextGroupCreate failed")
        }
        self.ref = ref
    }

    deinit { JSContextGroupRelease(ref) }
}
