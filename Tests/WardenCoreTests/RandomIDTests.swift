import Foundation
import Testing

@testable import WardenCore

@Suite("Random identifiers")
struct RandomIDTests {
    @Test func aUUIDIsAVersion4UUIDInLowerCase() throws {
        for _ in 0..<200 {
            let id = RandomID.uuid()
            #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
        }
    }

    @Test func aTimeOrderedUUIDIsAVersion7UUIDThatSortsByTime() throws {
        var previous = ""
        for millis in stride(from: Int64(1_700_000_000_000), to: 1_700_000_000_200, by: 1) {
            let id = RandomID.timeOrderedUUID(millis: millis)
            #expect(id.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil, "\(id)")
            #expect(id > previous)
            previous = id
        }
        // The first 48 bits are the milliseconds.
        #expect(RandomID.timeOrderedUUID(millis: 0x0123_4567_89ab).hasPrefix("01234567-89ab-7"))
        #expect(RandomID.timeOrderedUUID(millis: -5).hasPrefix("00000000-0000-7"))
    }

    @Test func identifiersDoNotRepeat() {
        let uuids = Set((0..<1_000).map { _ in RandomID.uuid() })
        let hexes = Set((0..<1_000).map { _ in RandomID.hex128() })
        #expect(uuids.count == 1_000 && hexes.count == 1_000)
        #expect(hexes.allSatisfy { $0.wholeMatch(of: /[0-9a-f]{32}/) != nil })
    }
}
