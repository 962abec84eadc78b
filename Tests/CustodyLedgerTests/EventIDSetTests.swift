import CustodyCrypto
@testable import CustodyStore
import Testing

@Suite("The audit's set of event keys")
struct EventIDSetTests {
    static func key(_ i: Int) -> (id: SHA256.Digest, occurredAt: Int64, index: UInt64) {
        (SHA256.Digest(hashing: Array("event \(i)".utf8)[...]), Int64(i), UInt64(i))
    }

    @Test("its middle key, from a bounded sample, falls near the median however many keys it holds", arguments: [1, 41, 256, 257, 1_000, 5_000])
    func middleNearMedian(count: Int) throws {
        let set = try EventIDSet()
        // In chunks, as the audit inserts them.
        for start in stride(from: 0, to: count, by: 97) {
            _ = try set.insert((start..<min(count, start + 97)).map { Self.key($0) })
        }
        let middle = try #require(try set.committed().middle)
        // Times 0..<count in insertion order: the median time is count / 2; the sample's, within a 64th of it.
        #expect(abs(Int(middle.occurredAt) - count / 2) <= max(1, count / 64), "middle \(middle.occurredAt) of \(count)")
    }

    @Test("a repeated key is reported with the index it was first inserted at")
    func repeats() throws {
        let set = try EventIDSet()
        #expect(try set.insert((0..<300).map { Self.key($0) }) == nil)
        let again = Self.key(123)
        let repeated = try set.insert([Self.key(300), (again.id, again.occurredAt, 301)])
        #expect(repeated?.index == 301 && repeated?.earlier == 123)
    }
}
