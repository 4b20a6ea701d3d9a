import CJavaScriptCore

#if canImport(Glibc)
    import Glibc
#endif

/// One global JavaScript context: its own globals, sharing the engine's VM and limits.
///
/// Every call that can run script goes through `check(_:)`, the one place where JavaScriptCore's out-parameter
/// exceptions and watchdog terminations become Swift errors.
public final class ScriptContext {
    let ref: JSGlobalContextRef
    public let engine: ScriptEngine
    /// Set once a budget stopped a script here; such a context is never used again.
    public private(set) var isTerminated = false

    init(engine: ScriptEngine, name: String) throws(ScriptError) {
        guard let ref = JSGlobalContextCreateInGroup(engine.group.ref, nil) else {
            throw ScriptError(code: .engineUnavailable, message: "JSGlobalContextCreateInGroup failed")
        }
        self.ref = ref
        self.engine = engine
        JSStrings.with(name) { JSGlobalContextSetName(ref, $0) }
        JSStrings.with("eval and the Function constructor are not allowed in workers") {
            JSGlobalContextSetEvalEnabled(ref, false, $0)
        }
    }

    deinit { JSGlobalContextRelease(ref) }

    // MARK: Making values

    public var globalObject: ScriptValue { ScriptValue(JSContextGetGlobalObject(ref), in: self) }
    public var undefined: ScriptValue { ScriptValue(JSValueMakeUndefined(ref), in: self) }
    public var null: ScriptValue { ScriptValue(JSValueMakeNull(ref), in: self) }
    public func boolean(_ value: Bool) -> ScriptValue { ScriptValue(JSValueMakeBoolean(ref, value), in: self) }
    public func number(_ value: Double) -> ScriptValue { ScriptValue(JSValueMakeNumber(ref, value), in: self) }
    public func string(_ value: String) -> ScriptValue {
        JSStrings.with(value) { ScriptValue(JSValueMakeString(ref, $0), in: self) }
    }

    /// Collects garbage of the whole VM now and waits until it is done (when the library has the call; else a
    /// hint). Costly: used only to check a context that seems to keep too much memory between runs.
    public func collectGarbageNow() { warden_jsc_collect_now(ref) }

    /// Bytes the whole VM keeps alive after a full collection (JS heap and the memory it reports beside it), or
    /// `nil` when the library cannot tell. Walks the heap: costly, for rare checks only.
    public func liveHeapBytes() -> Int64? {
        warden_jsc_collect_now(ref)
        guard let statistics = warden_jsc_memory_statistics(ref) else { return nil }
        let object = ScriptValue(statistics, in: self)
        let heap = (try? object.property("heapSize").numberValue) ?? nil
        let extra = (try? object.property("extraMemorySize").numberValue) ?? nil
        guard let heap else { return nil }
        let total = heap + (extra ?? 0)
        guard total.isFinite, total >= 0, total < 9e18 else { return nil }
        return Int64(total)
    }

    /// A new empty object.
    public func object() -> ScriptValue { ScriptValue(JSObjectMake(ref, nil, nil), in: self) }

    /// A new `Error` whose message is `message`.
    public func error(_ message: String) -> ScriptValue {
        let text = string(message)
        var argument: JSValueRef? = text.ref
        if let error = JSObjectMakeError(ref, 1, &argument, nil) { return ScriptValue(error, in: self) }
        return text
    }

    /// Parses JSON text into a value of this context.
    public func parseJSON(_ json: String) throws(ScriptError) -> ScriptValue {
        let value = JSStrings.with(json) { JSValueMakeFromJSONString(ref, $0) }
        guard let value else { throw ScriptError(code: .invalidArgument, message: "not valid JSON") }
        return ScriptValue(value, in: self)
    }

    /// The JSON text of a value, or `nil` for values JSON has no text for (`undefined`, functions). Runs script
    /// (`toJSON`, getters), so it is budgeted and may throw.
    public func jsonString(_ value: ScriptValue) throws(ScriptError) -> String? {
        var exception: JSValueRef?
        let json = JSValueCreateJSONString(ref, value.ref, 0, &exception)
        try check(exception)
        guard let json else { return nil }
        defer { JSStringRelease(json) }
        return JSStrings.string(json)
    }

    // MARK: Running script

    /// Evaluates a classic script (not a module). Line numbers in errors count from `startLine`.
    @discardableResult
    public func evaluate(_ source: String, sourceURL: String, startLine: Int = 1) throws(ScriptError) -> ScriptValue {
        try ensureUsable()
        var exception: JSValueRef?
        let result = JSStrings.with(source) { sourceRef in
            JSStrings.with(sourceURL) { urlRef in
                JSEvaluateScript(ref, sourceRef, nil, urlRef, Int32(clamping: startLine), &exception)
            }
        }
        try check(exception)
        return wrap(result)
    }

    /// Calls `function` with `arguments`. Microtasks queued by the call run before it returns.
    @discardableResult
    public func call(_ function: ScriptValue, this: ScriptValue? = nil, _ arguments: [ScriptValue] = []) throws(ScriptError)
        -> ScriptValue
    {
        try ensureUsable()
        guard let object = JSValueToObject(ref, function.ref, nil), JSObjectIsFunction(ref, object) else {
            throw ScriptError(code: .invalidArgument, message: "value is not a function")
        }
        let thisObject = this.flatMap { JSValueToObject(ref, $0.ref, nil) }
        var exception: JSValueRef?
        let refs: [JSValueRef?] = arguments.map { $0.ref }
        let result = refs.withUnsafeBufferPointer { buffer in
            JSObjectCallAsFunction(ref, object, thisObject, buffer.count, buffer.baseAddress, &exception)
        }
        try check(exception)
        return wrap(result)
    }

    /// Reads `name` of `object`; getters and proxies run, so this is budgeted and may throw.
    public func property(of object: ScriptValue, _ name: String) throws(ScriptError) -> ScriptValue {
        try ensureUsable()
        guard let target = JSValueToObject(ref, object.ref, nil) else { return undefined }
        var exception: JSValueRef?
        let value = JSStrings.with(name) { JSObjectGetProperty(ref, target, $0, &exception) }
        try check(exception)
        return wrap(value)
    }

    /// Sets `name` of `object` to `value` (read-only, not enumerable, not deletable when `locked`).
    public func setProperty(_ object: ScriptValue, _ name: String, _ value: ScriptValue, locked: Bool = false) throws(ScriptError) {
        try ensureUsable()
        guard let target = JSValueToObject(ref, object.ref, nil) else {
            throw ScriptError(code: .invalidArgument, message: "not an object")
        }
        let attributes: JSPropertyAttributes =
            locked
            ? JSPropertyAttributes(kJSPropertyAttributeReadOnly | kJSPropertyAttributeDontEnum | kJSPropertyAttributeDontDelete)
            : JSPropertyAttributes(kJSPropertyAttributeNone)
        var exception: JSValueRef?
        JSStrings.with(name) { JSObjectSetProperty(ref, target, $0, value.ref, attributes, &exception) }
        try check(exception)
    }

    /// A pending promise and the functions that settle it. Settling it from Swift is a script call and runs the
    /// microtasks that were waiting on it.
    public func deferredPromise() throws(ScriptError) -> (promise: ScriptValue, resolve: ScriptValue, reject: ScriptValue) {
        try ensureUsable()
        var resolve: JSObjectRef?
        var reject: JSObjectRef?
        var exception: JSValueRef?
        let promise = JSObjectMakeDeferredPromise(ref, &resolve, &reject, &exception)
        try check(exception)
        guard let promise, let resolve, let reject else {
            throw ScriptError(code: .engineUnavailable, message: "JSObjectMakeDeferredPromise failed")
        }
        return (ScriptValue(promise, in: self), ScriptValue(resolve, in: self), ScriptValue(reject, in: self))
    }

    /// A JavaScript function that runs `body`. An error thrown by `body` becomes a JavaScript `Error` with the
    /// error's description as its message; a `nil` result becomes `undefined`.
    public func function(named name: String, _ body: @escaping (HostArguments) throws -> ScriptValue?) -> ScriptValue {
        let box = HostFunctionBox(context: self, name: name, body: body)
        let object = JSObjectMake(ref, HostFunctionBox.jsClass, Unmanaged.passRetained(box).toOpaque())
        return wrap(object)
    }

    // MARK: Errors

    func wrap(_ value: JSValueRef?) -> ScriptValue {
        ScriptValue(value ?? JSValueMakeUndefined(ref), in: self)
    }

    func ensureUsable() throws(ScriptError) {
        if isTerminated {
            throw ScriptError(code: .terminated, message: "context was terminated and cannot run again", termination: nil)
        }
    }

    /// The one place where JavaScriptCore's outcome of a call becomes a Swift error.
    func check(_ exception: JSValueRef?) throws(ScriptError) {
        if let termination = engine.takeTermination() {
            isTerminated = true
            throw ScriptError(code: .terminated, message: "script stopped: \(termination.rawValue) budget used up", termination: termination)
        }
        if let exception {
            throw ScriptError(code: .exception, message: describe(exception))
        }
    }

    /// `String(exception)` when that works, with the line number JSC attached. Never throws: converting may run a
    /// hostile `toString`, whose own failure is reported instead.
    func describe(_ exception: JSValueRef) -> String {
        var inner: JSValueRef?
        guard let text = JSValueToStringCopy(ref, exception, &inner) else {
            _ = engine.takeTermination()
            return "uncaught exception (its description could not be read)"
        }
        defer { JSStringRelease(text) }
        var message = JSStrings.string(text)
        if let object = JSValueToObject(ref, exception, nil) {
            let line = JSStrings.with("line") { JSObjectGetProperty(ref, object, $0, nil) }
            if let line, JSValueIsNumber(ref, line) {
                message += " (line \(Int(JSValueToNumber(ref, line, nil))))"
            }
        }
        return message
    }
}

/// The arguments a host function was called with.
public struct HostArguments {
    public let context: ScriptContext
    public let this: ScriptValue
    let values: [ScriptValue]

    public var count: Int { values.count }

    /// The argument at `index`, `undefined` past the end.
    public subscript(index: Int) -> ScriptValue {
        index < values.count ? values[index] : context.undefined
    }

    /// The argument at `index` when it is a string.
    public func string(_ index: Int) -> String? { self[index].stringValue }

    /// The argument at `index` when it is a number.
    public func number(_ index: Int) -> Double? { self[index].numberValue }
}

/// The Swift side of a host function: JavaScriptCore keeps a retained pointer to it as the object's private data
/// and releases it in the class's finalizer.
final class HostFunctionBox {
    unowned let context: ScriptContext
    let name: String
    let body: (HostArguments) throws -> ScriptValue?

    init(context: ScriptContext, name: String, body: @escaping (HostArguments) throws -> ScriptValue?) {
        self.context = context
        self.name = name
        self.body = body
    }

    /// One class for every host function of the process; created on first use, never released.
    nonisolated(unsafe) static let jsClass: JSClassRef? = {
        var definition = kJSClassDefinitionEmpty
        definition.className = UnsafePointer(strdup("HostFunction"))
        definition.callAsFunction = { context, function, this, count, arguments, exception in
            guard let context, let function, let info = JSObjectGetPrivate(function) else { return nil }
            let box = Unmanaged<HostFunctionBox>.fromOpaque(info).takeUnretainedValue()
            let scriptContext = box.context
            var values: [ScriptValue] = []
            values.reserveCapacity(count)
            for index in 0..<count {
                if let value = arguments?[index] { values.append(ScriptValue(value, in: scriptContext)) }
            }
            let thisValue = this.map { ScriptValue($0, in: scriptContext) } ?? scriptContext.undefined
            do {
                let result = try box.body(HostArguments(context: scriptContext, this: thisValue, values: values))
                return result?.ref ?? JSValueMakeUndefined(context)
            } catch {
                exception?.pointee = scriptContext.error("\(error)").ref
                return nil
            }
        }
        definition.finalize = { object in
            guard let object, let info = JSObjectGetPrivate(object) else { return }
            Unmanaged<HostFunctionBox>.fromOpaque(info).release()
        }
        return JSClassCreate(&definition)
    }()
}
