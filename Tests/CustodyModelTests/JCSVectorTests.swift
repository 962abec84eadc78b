import Foundation
import Testing

@testable import CustodyModel

/// The RFC 8785 reference vectors (github.com/cyberphone/json-canonicalization testdata).
@Suite("JCS reference vectors")
struct JCSVectorTests {
    static let names = ["arrays", "french", "structures", "unicode", "values", "weird"]

    @Test("input canonicalizes to output byte for byte", arguments: names)
    func vector(_ name: String) throws {
        let input = try fixtureBytes("jcs/input/\(name).json")
        let expected = try fixtureBytes("jcs/output/\(name).json")
        // values.json holds 1E30, beyond the ledger's integer range: plain JCS policy for that one.
        let policy: JSONParser.NumberPolicy = name == "values" ? .anyFinite : .safeIntegers
        let output = try CanonicalJSON.canonicalize(input, numbers: policy)
        #expect(output == expected, "\(name): got \(text(output))")

        // Canonical output is a fixed point, and parses back to the same value.
        #expect(try CanonicalJSON.canonicalize(output, numbers: policy) == output)
        #expect(try JSONParser.parse(output, numbers: policy) == JSONParser.parse(input, numbers: policy))

        // The Data entry point agrees.
        #expect(try CanonicalJSON.canonicalize(Data(input), numbers: policy) == expected)
    }

    @Test("the ledger policy rejects values.json's 1E30")
    func valuesVectorRejectedByDefault() throws {
        let input = try fixtureBytes("jcs/input/values.json")
        let offset = try #require(text(input).utf8.firstRange(of: "1E30".utf8)).lowerBound
        let byteOffset = text(input).utf8.distance(from: text(input).utf8.startIndex, to: offset)
        #expect(throws: JSONParseError(.numberOutOfRange("1E30"), at: byteOffset)) {
            try CanonicalJSON.canonicalize(input)
        }
    }

    @Test("all vectors present")
    func vectorsPresent() throws {
        for name in Self.names {
            #expect(try !fixtureBytes("jcs/input/\(name).json").isEmpty)
            #expect(try !fixtureBytes("jcs/output/\(name).json").isEmpty)
        }
    }
}
