import Foundation
import Testing

@testable import CustodyModel

/// `CanonicalJSON.canonicalize` takes a direct path (no `JSONValue`); it must agree exactly with
/// `encode(parse(_:))`, for accepted and rejected inputs alike.
@Suite("Direct canonicalization agrees with parse + encode")
struct DifferentialTests {
    /// Both paths on one input: same bytes, or the same error.
    func agree(_ input: [UInt8], numbers: JSONParser.NumberPolicy = .safeIntegers,
               sourceLocation: SourceLocation = #_sourceLocation) {
        let direct = Result { () throws(JSONParseError) in try CanonicalJSON.canonicalize(input, numbers: numbers) }
        let viaValue = Result { () throws(JSONParseError) in
            CanonicalJSON.encode(try JSONParser.parse(input, numbers: numbers))
        }
        switch (direct, viaValue) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(text(input)): \(text(a)) vs \(text(b))", sourceLocation: sourceLocation)
        case (.failure(let a), .failure(let b)):
            #expect(a == b, "\(text(input))", sourceLocation: sourceLocation)
        default:
            Issue.record("paths disagree on \(text(input)): \(direct) vs \(viaValue)", sourceLocation: sourceLocation)
        }
    }

    @Test("all rejection cases fail identically on both paths")
    func rejections() {
        let all = ParserRejectionTests.syntax + ParserRejectionTests.numbers + ParserRejectionTests.strings
            + ParserRejectionTests.utf8Cases + ParserRejectionTests.structure
        for c in all where c.maxDepth == JSONParser.defaultMaxDepth { agree(c.input) }
    }

    @Test("JCS vectors")
    func vectors() throws {
        for name in JCSVectorTests.names {
            agree(try fixtureBytes("jcs/input/\(name).json"), numbers: .anyFinite)
            agree(try fixtureBytes("jcs/input/\(name).json"))
        }
    }

    @Test("large objects, duplicates in them, and nesting")
    func largeObjects() {
        for count in [1, 2, 15, 16, 17, 18, 33, 200] {
            let members = (0..<count).reversed().map { "\"k\($0)\":[\($0),{\"x\":\($0)}]" }
            agree(utf8("{" + members.joined(separator: ",") + "}"))
            agree(utf8("{" + members.joined(separator: ",") + ",\"k0\":1}"))
            agree(utf8("[{" + members.joined(separator: ",") + "},{" + members.joined(separator: ",") + "}]"))
            agree(utf8("{\"outer\":{" + members.joined(separator: ",") + "},\"k0\":0,\"k1\":1}"))
        }
    }

    @Test("noisy encodings of random values")
    func randomNoisyDocuments() throws {
        var rng = SplitMix64(seed: 0x8785)
        for _ in 0..<400 {
            let value = CanonicalEncodingTests.randomValue(depth: 0, using: &rng)
            let noisy = utf8(Self.noisyJSON(value, using: &rng))
            #expect(try JSONParser.parse(noisy) == value, "\(text(noisy))")
            let expected = CanonicalJSON.encode(value)
            #expect(try CanonicalJSON.canonicalize(noisy) == expected, "\(text(noisy))")
            agree(noisy)
            // Truncations are rejected the same way on both paths.
            if noisy.count > 2 {
                agree(Array(noisy.prefix(Int.random(in: 1..<noisy.count, using: &rng))))
            }
        }
    }

    @Test("random byte mutations are handled identically")
    func mutations() throws {
        var rng = SplitMix64(seed: 99)
        let seeds = try JCSVectorTests.names.map { try fixtureBytes("jcs/input/\($0).json") }
            + [utf8(#"{"a":[1,-2.5e-3,"x\u00e9\ud83d\ude00",true,null],"b":{"c":"\\\"\/"}}"#)]
        let interesting: [UInt8] = [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x30, 0x2D, 0x2E, 0x65, 0x75,
                                    0x00, 0x1F, 0x20, 0x80, 0xBF, 0xC0, 0xE0, 0xED, 0xF0, 0xF4, 0xFF]
        for _ in 0..<3000 {
            var doc = seeds.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<doc.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: doc[i] = interesting.randomElement(using: &rng)!
                case 1: doc.remove(at: i)
                default: doc.insert(interesting.randomElement(using: &rng)!, at: i)
                }
                if doc.isEmpty { break }
            }
            agree(doc, numbers: .anyFinite)
        }
    }

    /// Valid JSON for `value` with random whitespace, escapes and number spellings.
    static func noisyJSON(_ value: JSONValue, using rng: inout SplitMix64) -> String {
        let spaces = ["", "", "", " ", "\n", "\t", "\r\n  "]
        func ws() -> String { spaces.randomElement(using: &rng)! }
        func string(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                let v = scalar.value
                let choice = Int.random(in: 0..<4, using: &rng)
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "/" where choice == 0: out += "\\/"
                case "\n" where choice < 2: out += "\\n"
                default:
                    if v < 0x20 || choice == 0 {
                        if v >= 0x10000 {
                            let u = v - 0x10000
                            out += String(format: "\\u%04X\\u%04x", 0xD800 + (u >> 10), 0xDC00 + (u & 0x3FF))
                        } else {
                            out += String(format: choice == 0 ? "\\u%04x" : "\\u%04X", v)
                        }
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            var text = d.description  // valid JSON for finite doubles: "1.0", "1e-07", "-0.0", "1e+16"
            if Bool.random(using: &rng) { text = text.replacingOccurrences(of: "e", with: "E") }
            return text
        case .string(let s): return string(s)
        case .array(let elements):
            return "[" + ws() + elements.map { noisyJSON($0, using: &rng) + ws() }.joined(separator: "," + ws()) + "]"
        case .object(let object):
            let members = object.map { ws() + string($0.key) + ws() + ":" + ws() + noisyJSON($0.value, using: &rng) + ws() }
            return "{" + members.joined(separator: ",") + ws() + "}"
        }
    }
}

@Suite("SWAR helpers")
struct SWARTests {
    @Test("escapeFlags finds exactly the first byte that needs escaping")
    func escapeFlags() {
        var rng = SplitMix64(seed: 7)
        let needs = { (b: UInt8) in b < 0x20 || b == 0x22 || b == 0x5C }
        for position in 0..<8 {
            for value in 0...255 {
                // Background of bytes that never need escaping, including non-ASCII and 0x20/0x7F edges.
                var bytes = (0..<8).map { _ in [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF].randomElement(using: &rng)! as UInt8 }
                bytes[position] = UInt8(value)
                // Random bytes after the position, which may or may not need escaping.
                for j in (position + 1)..<8 where Bool.random(using: &rng) { bytes[j] = UInt8.random(in: 0...255, using: &rng) }
                let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                let flags = CanonicalJSON.escapeFlags(word)
                let first = bytes.firstIndex(where: needs)
                #expect((flags == 0) == (first == nil))
                if let first { #expect(flags.trailingZeroBitCount >> 3 == first, "\(bytes)") }
            }
        }
    }

    @Test("sortPrefix orders like UTF-16 for distinct prefixes")
    func sortPrefix() {
        let keys = ["", "a", "ab", "abcdefgh", "abcdefghi", "abcdefgi", "\u{7F}", "\u{80}", "\u{E9}", "\u{D7FF}",
                    "\u{E000}", "\u{FB33}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{10FFFF}", "a\u{0}", "A", "Z"]
        for a in keys {
            for b in keys {
                let pa = a.utf8.withContiguousStorageIfAvailable { CanonicalJSON.sortPrefix($0) }!
                let pb = b.utf8.withContiguousStorageIfAvailable { CanonicalJSON.sortPrefix($0) }!
                let reference = Array(a.utf16).lexicographicallyPrecedes(Array(b.utf16))
                if pa != pb { #expect((pa < pb) == reference, "\(a.unicodeScalars.map(\.value)) vs \(b.unicodeScalars.map(\.value))") }
            }
        }
    }
}
