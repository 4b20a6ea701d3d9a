import CJavaScriptCore

/// A JavaScript value kept alive for as long as this object lives (`JSValueProtect` / `JSValueUnprotect`).
///
/// Values belong to the context that made them; the sandbox never hands one to another context, so data crosses
/// between workers only as JSON text.
public final class ScriptValue {
    let ref: JSValueRef
    /// Strong: a value must be unprotected in the context that protected it, so the context outlives its values.
    let context: ScriptContext

    init(_ ref: JSValueRef, in context: ScriptContext) {
        self.ref = ref
        self.context = context
        JSValueProtect(context.ref, ref)
    }

    deinit { JSValueUnprotect(context.ref, ref) }

    public var isUndefined: Bool { JSValueIsUndefined(context.ref, ref) }
    public var isNull: Bool { JSValueIsNull(context.ref, ref) }
    public var isObject: Bool { JSValueIsObject(context.ref, ref) }
    public var isString: Bool { JSValueIsString(context.ref, ref) }
    public var isBoolean: Bool { JSValueIsBoolean(context.ref, ref) }
    public var isNumber: Bool { JSValueIsNumber(context.ref, ref) }

    /// True when the value is callable.
    public var isFunction: Bool {
        guard let object = JSValueToObject(context.ref, ref, nil) else { return false }
        return JSObjectIsFunction(context.ref, object)
    }

    /// The boolean the value converts to (never runs script).
    public var boolValue: Bool { JSValueToBoolean(context.ref, ref) }

    /// The value as a number when it is one; `nil` otherwise (never runs script).
    public var numberValue: Double? {
        guard isNumber else { return nil }
        return JSValueToNumber(context.ref, ref, nil)
    }

    /// The value as a string when it is one; `nil` otherwise (never runs script).
    public var stringValue: String? {
        guard isString, let string = JSValueToStringCopy(context.ref, ref, nil) else { return nil }
        defer { JSStringRelease(string) }
        return JSStrings.string(string)
    }

    /// Reads a property; may run script (getters, proxies), so it can throw.
    public func property(_ name: String) throws(ScriptError) -> ScriptValue {
        try context.property(of: self, name)
    }
}
