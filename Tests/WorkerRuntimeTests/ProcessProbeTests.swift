import Foundation
import Testing

@testable import WorkerRuntime

/// The executor's memory readings: its own through a descriptor kept open, which must read the figure afresh each
/// time, as a fresh open of the file does.
@Suite("Process readings")
struct ProcessProbeTests {
    @Test func theKeptDescriptorReadsTheFigureAfresh() throws {
        let before = try #require(ProcessProbe.residentBytes())
        let byPID = try #require(ProcessProbe.residentBytes(pid: getpid()))
        #expect(before > 1_000_000 && abs(byPID - before) < 16 << 20, "\(before) \(byPID)")
        // 64 MiB touched page by page: the kept descriptor sees the process grow.
        let size = 64 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4_096)
        defer { block.deallocate() }
        for offset in stride(from: 0, to: size, by: 4_096) { block.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        let after = try #require(ProcessProbe.residentBytes())
        let afresh = try #require(ProcessProbe.residentBytes(pid: getpid()))
        // Other tests of this process allocate and free meanwhile, so the growth itself is not a measure: the kept
        // descriptor must give a new figure, the one a fresh open of the file gives.
        #expect(after != before && abs(afresh - after) < 16 << 20, "\(before) → \(after), afresh \(afresh)")
        #expect(ProcessProbe.residentBytes(pid: Int32.max) == nil)
    }
}
