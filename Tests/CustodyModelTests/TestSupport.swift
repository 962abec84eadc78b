import Foundation
import Testing

@testable import CustodyModel

/// The UTF-8 bytes of a Swift string (for JSON texts written as literals).
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Bytes as text, for readable expectation failures.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Canonical text of a value.
func canonical(_ value: JSONValue) -> String { text(CanonicalJSON.encode(value)) }

/// A file in the test bundle's `Fixtures` folder.
func fixtureURL(_ relativePath: String) throws -> URL {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return root.appendingPathComponent(relativePath)
}

func fixtureBytes(_ relativePath: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: fixtureURL(relativePath)))
}

/// A deterministic PRNG (SplitMix64) so randomized tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
