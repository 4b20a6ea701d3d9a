/// A worker's compiled JavaScript with the map from its generated lines back to the lines of the source.
public struct CompiledModule: Sendable, Equatable {
    /// CommonJS-style JavaScript whose `exports.default` is the worker function.
    public var javaScript: String
    /// `lineMap[n-1]` is the source line of generated line `n`; 0 where the compiler emitted no mapping.
    public var lineMap: [Int32]
    /// SHA-256 of the source, hex: with the worker's identity it names the warm context that holds this code.
    public var sourceHash: String

    public init(javaScript: String, lineMap: [Int32], sourceHash: String) {
        self.javaScript = javaScript
        self.lineMap = lineMap
        self.sourceHash = sourceHash
    }

    /// The source line of a generated line, falling back to the nearest mapped line above it.
    public func sourceLine(forGenerated line: Int) -> Int? {
        guard line >= 1 else { return nil }
        var index = min(line, lineMap.count) - 1
        while index >= 0 {
            if lineMap[index] > 0 { return Int(lineMap[index]) }
            index -= 1
        }
        return lineMap.isEmpty ? line : nil
    }
}
