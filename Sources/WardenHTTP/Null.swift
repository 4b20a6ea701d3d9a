/// An optional field that a synthesised `Encodable` writes as `null` when it is absent, where an answer's shape
/// keeps every key (the agents API's runner and job, a history entry's `result` and `error`); a plain optional is
/// left out instead.
@propertyWrapper
struct Null<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}
