import Foundation
import Testing

@testable import CustodyModel

/// Number formatting against Node.js's own `Number.prototype.toString` (see Fixtures/README.md).
@Suite("ECMAScript number corpus")
struct ECMAScriptNumberTests {
    struct Case {
        let bits: UInt64
        let expected: String
    }

    static func load() throws -> [Case] {
        let content = String(decoding: try fixtureBytes("numbers/ecmascript-numbers.txt"), as: UTF8.self)
        return try content.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            try #require(parts.count == 2, "bad fixture line \(line)")
            return Case(bits: try #require(UInt64(parts[0], radix: 16)), expected: String(parts[1]))
        }
    }

    @Test("encoder matches Number.prototype.toString for the whole corpus")
    func corpus() throws {
        let cases = try Self.load()
        #expect(cases.count == 3074)
        var failures = 0
        for c in cases {
            let d = Double(bitPattern: c.bits)
            let got = canonical(.number(d))
            if got != c.expected {
                failures += 1
                if failures <= 10 { Issue.record("\(d) (0x\(String(c.bits, radix: 16))): got \(got), want \(c.expected)") }
            }
            // The canonical text parses back to the same double (±0 aside), under the plain JCS policy.
            let back = try JSONParser.parse(utf8(c.expected), numbers: .anyFinite).doubleValue
            #expect(back == d)
            // Under the ledger policy it parses iff it is within ±(2^53−1).
            let accepted = (try? JSONParser.parse(utf8(c.expected))) != nil
            #expect(accepted == (d.magnitude <= 9_007_199_254_740_991))
        }
        #expect(failures == 0)
    }
}
