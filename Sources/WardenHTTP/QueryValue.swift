import WardenCore

/// Query parameters read the worker service's way; a bad value is refused naming the parameter.
enum QueryValue {
    /// `true` or `false` (any case); absent or empty is `nil`.
    static func flag(_ value: String?, _ name: String) throws -> Bool? {
        guard let value, !value.isEmpty else { return nil }
        guard let flag = Bool(value.lowercased()) else { throw WardenError.invalid(name, "must be true or false, got '\(value)'") }
        return flag
    }

    /// A whole number; absent or empty is `nil`.
    static func integer(_ value: String?, _ name: String) throws -> Int? {
        guard let value, !value.isEmpty else { return nil }
        guard let number = Int(value) else { throw WardenError.invalid(name, "must be a whole number, got '\(value)'") }
        return number
    }
}
