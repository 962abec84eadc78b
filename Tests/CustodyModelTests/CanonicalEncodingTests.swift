import Foundation
import Testing

@testable import CustodyModel

@Suite("Canonical encoding")
struct CanonicalEncodingTests {
    // MARK: Numbers

    @Test("ECMAScript number formatting edge cases", arguments: [
        (1e21, "1e+21"), (1e-6, "0.000001"), (1e-7, "1e-7"), (123e18, "123000000000000000000"),
        (0.000001, "0.000001"), (.leastNonzeroMagnitude, "5e-324"), (-.leastNonzeroMagnitude, "-5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (-1.7976931348623157e308, "-1.7976931348623157e+308"),
        (-0.0, "0"), (0.0, "0"), (333_333_333.3333332, "333333333.3333332"), (333_333_333.33333329, "333333333.3333333"),
        (1, "1"), (-1, "-1"), (100, "100"), (1.5, "1.5"), (-1.5, "-1.5"), (0.1, "0.1"), (0.5, "0.5"),
        (4.5, "4.5"), (0.002, "0.002"), (1e-27, "1e-27"), (1e30, "1e+30"), (1e-5, "0.00001"),
        (1.2e-7, "1.2e-7"), (1.5e-6, "0.0000015"), (9.99999999999999e-7, "9.99999999999999e-7"), (9.9e-7, "9.9e-7"),
        (9_007_199_254_740_991, "9007199254740991"), (-9_007_199_254_740_991, "-9007199254740991"),
        (9_007_199_254_740_992, "9007199254740992"), (1e20, "100000000000000000000"),
        (999_999_999_999_999_868_928, "999999999999999900000"), (1e22, "1e+22"), (1.2e21, "1.2e+21"),
        (0.1 + 0.2, "0.30000000000000004"), (1.0 / 3.0, "0.3333333333333333"), (2.0 / 3.0, "0.6666666666666666"),
        (123_456.789, "123456.789"), (-0.000123, "-0.000123"), (1e16, "10000000000000000"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"), (4.35, "4.35"), (1e300, "1e+300"),
        (18_446_744_073_709_551_616, "18446744073709552000"), (0x1p68, "295147905179352830000"),
    ] as [(Double, String)])
    func numberFormatting(_ value: Double, _ expected: String) {
        #expect(canonical(.number(value)) == expected)
    }

    @Test("number literals canonicalize", arguments: [
        ("-0", "0"), ("-0.0", "0"), ("0.0", "0"), ("1.0", "1"), ("1.50", "1.5"), ("100e-2", "1"), ("1e2", "100"),
        ("1E-7", "1e-7"), ("0.0000001", "1e-7"), ("0.000001", "0.000001"), ("1E+2", "100"), ("12.5e1", "125"),
        ("333333333.33333329", "333333333.3333333"), ("4.9406564584124654e-324", "5e-324"),
        ("0.1000000000000000055511151231257827", "0.1"), ("-1e-400", "0"), ("9007199254740991", "9007199254740991"),
        ("1e15", "1000000000000000"), ("0.30000000000000004", "0.30000000000000004"),
    ] as [(String, String)])
    func numberLiterals(_ literal: String, _ expected: String) throws {
        #expect(try text(CanonicalJSON.canonicalize(utf8(literal))) == expected)
    }

    @Test("non-finite numbers are not JSON")
    func nonFinite() async {
        await #expect(processExitsWith: .failure) {
            _ = CanonicalJSON.encode(.number(.nan))
        }
    }

    // MARK: Strings

    @Test("string escaping follows RFC 8785 exactly")
    func stringEscapes() {
        #expect(canonical(.string("")) == #""""#)
        #expect(canonical(.string("plain ascii")) == #""plain ascii""#)
        #expect(canonical(.string("\"\\")) == #""\"\\""#)
        #expect(canonical(.string("/")) == #""/""#)
        #expect(canonical(.string("\u{8}\u{9}\u{A}\u{C}\u{D}")) == #""\b\t\n\f\r""#)
        #expect(canonical(.string("\u{0}\u{1}\u{B}\u{E}\u{F}\u{10}\u{1A}\u{1F}")) == #""\u0000\u0001\u000b\u000e\u000f\u0010\u001a\u001f""#)
        // Everything else is literal UTF-8, including DEL, U+2028/2029, non-ASCII and non-BMP.
        let literal = "\u{20}\u{7F}\u{80}\u{E9}\u{2028}\u{2029}\u{20AC}\u{FEFF}\u{FFFF}\u{1F600}\u{10FFFF}"
        #expect(CanonicalJSON.encode(.string(literal)) == [0x22] + Array(literal.utf8) + [0x22])
        // No Unicode normalization.
        #expect(CanonicalJSON.encode(.string("A\u{30A}")) == [0x22, 0x41, 0xCC, 0x8A, 0x22])
        #expect(canonical(.string("a\"b\nc\\d")) == #""a\"b\nc\\d""#)
    }

    @Test("every control character has its one escape")
    func allControls() {
        let short: [UInt8: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        for c in UInt8(0)..<0x20 {
            let want = short[c] ?? "\\u00" + (c < 0x10 ? "0" : "") + String(c, radix: 16)
            #expect(canonical(.string(String(UnicodeScalar(c)))) == "\"\(want)\"")
        }
    }

    @Test("a large string with scattered escapes")
    func largeString() {
        var s = ""
        var expected = "\""
        for i in 0..<5000 {
            s += "chunk\(i)\u{E9}"
            expected += "chunk\(i)\u{E9}"
            if i % 7 == 0 {
                s += "\"\n"
                expected += "\\\"\\n"
            }
        }
        #expect(canonical(.string(s)) == expected + "\"")
    }

    // MARK: Objects

    @Test("members sort by UTF-16 code units, not by scalar")
    func utf16KeyOrder() throws {
        // U+1F600 is D83D DE00 in UTF-16, so it precedes U+FB33 there, though it follows it as a scalar.
        let object: JSONValue = ["\u{FB33}": 1, "\u{1F600}": 2, "a": 3, "\u{E000}": 4, "\u{D7FF}": 5, "\u{10000}": 6]
        // UTF-16: 0061 < D7FF < D800 DC00 < D83D DE00 < E000 < FB33.
        #expect(canonical(object) == "{\"a\":3,\"\u{D7FF}\":5,\"\u{10000}\":6,\"\u{1F600}\":2,\"\u{E000}\":4,\"\u{FB33}\":1}")
        #expect(CanonicalJSON.keyPrecedes("\u{1F600}", "\u{FB33}"))
        #expect(!CanonicalJSON.keyPrecedes("\u{FB33}", "\u{1F600}"))
        #expect(CanonicalJSON.keyPrecedes("\u{10FFFF}", "\u{FFFF}"))
        #expect(CanonicalJSON.keyPrecedes("\u{D7FF}", "\u{10000}"))
        #expect(CanonicalJSON.keyPrecedes("x\u{1F600}", "x\u{E000}"))
        #expect(CanonicalJSON.keyPrecedes("", "a"))
        #expect(CanonicalJSON.keyPrecedes("a", "ab"))
        #expect(!CanonicalJSON.keyPrecedes("a", "a"))
        #expect(CanonicalJSON.keyPrecedes("B", "a"))
        #expect(CanonicalJSON.keyPrecedes("\u{7F}", "\u{80}"))
    }

    @Test("key order matches a reference UTF-16 comparison on random keys")
    func keyOrderAgainstReference() {
        var rng = SplitMix64(seed: 8785)
        let pool: [Unicode.Scalar] = [
            "a", "b", "A", "0", " ", "\u{0}", "\u{7F}", "\u{80}", "\u{E9}", "\u{7FF}", "\u{800}", "\u{D7FF}",
            "\u{E000}", "\u{FB33}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{10FFFF}",
        ]
        var keys: [String] = []
        for _ in 0..<300 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...4, using: &rng) { s.append(pool.randomElement(using: &rng)!) }
            keys.append(String(s))
        }
        for a in keys.prefix(120) {
            for b in keys.prefix(120) {
                let reference = Array(a.utf16).lexicographicallyPrecedes(Array(b.utf16))
                #expect(CanonicalJSON.keyPrecedes(a, b) == reference, "\(Array(a.unicodeScalars)) vs \(Array(b.unicodeScalars))")
            }
        }
        // And the encoder's member order agrees with the reference sort.
        let unique = Array(Set(keys.map { ExactKey($0) })).map(\.string)
        let object = JSONObject(unique.enumerated().map { ($0.element, JSONValue.number(Double($0.offset))) })
        let encoded = CanonicalJSON.encode(.object(object))
        let reparsed = try! JSONParser.parse(encoded).objectValue!
        let referenceOrder = unique.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
        #expect(reparsed.keys.map { Array($0.unicodeScalars) } == referenceOrder.map { Array($0.unicodeScalars) })
    }

    @Test("objects sort recursively, arrays keep order, no whitespace")
    func structure() throws {
        let input = utf8(#"  { "b" : [ 3 , 1 , { "y" : 1 , "x" : 2 } ] , "a" : { "d" : null , "c" : true } , "" : [ ] }  "#)
        #expect(try text(CanonicalJSON.canonicalize(input)) == #"{"":[],"a":{"c":true,"d":null},"b":[3,1,{"x":2,"y":1}]}"#)
        // Already sorted input comes out unchanged apart from whitespace.
        let sorted = utf8(#"{"a":1,"b":{"a":[],"b":{}},"c":"z"}"#)
        #expect(try CanonicalJSON.canonicalize(sorted) == sorted)
    }

    @Test("member keys are escaped like strings")
    func keyEscapes() {
        let v: JSONValue = ["\n": 1, "\"": 2, "\\": 3, "\u{1}": 4]
        #expect(canonical(v) == #"{"\u0001":4,"\n":1,"\"":2,"\\":3}"#)
    }

    @Test("encode(into:) appends")
    func encodeInto() {
        var out = utf8("prefix:")
        CanonicalJSON.encode(["b": 1, "a": [true, nil]], into: &out)
        #expect(text(out) == #"prefix:{"a":[true,null],"b":1}"#)
    }

    @Test("a typical event canonicalizes as expected")
    func typicalEvent() throws {
        let event = utf8("""
            {
              "type": "custody.transfer", "schemaVersion": 1, "signer": "acme-mine:ops",
              "occurredAt": "2026-11-29T02:11:19.250Z", "nonce": "9f3c2a7e1b6d4c58",
              "lot": "LOT-2026-000123", "from": "acme-mine", "to": "brightcut-ltd",
              "caratsPoints": 152375, "valueCents": 1234567890,
              "note": "Sealed bag #4471 \\u2014 seal intact, weight 30.475 ct",
              "geo": {"lon": -25.7461, "lat": 28.1881}
            }
            """)
        let expected = #"{"caratsPoints":152375,"from":"acme-mine","geo":{"lat":28.1881,"lon":-25.7461},"lot":"LOT-2026-000123","nonce":"9f3c2a7e1b6d4c58","note":"Sealed bag #4471 — seal intact, weight 30.475 ct","occurredAt":"2026-11-29T02:11:19.250Z","schemaVersion":1,"signer":"acme-mine:ops","to":"brightcut-ltd","type":"custody.transfer","valueCents":1234567890}"#
        #expect(try text(CanonicalJSON.canonicalize(event)) == expected)
    }

    // MARK: Round trips

    static let corpus: [JSONValue] = [
        .null, true, false, 0, -0.0, 1, -1, 0.1, 1e-7, .number(.leastNonzeroMagnitude), 9_007_199_254_740_991, -9_007_199_254_740_991,
        333_333_333.3333332, 1.5e-6, 123.456, "", "x", "\u{0}\u{1F}\"\\/\u{7F}\u{2028}\u{1F600}", "A\u{30A}", "\u{212A}",
        [], [:], [[[]]], [1, "two", [3], ["four": 4]],
        ["b": 1, "a": 2, "c": ["z": nil, "y": [true, false]]],
        ["\u{FB33}": 1, "\u{1F600}": 2, "\u{C5}": 3, "A\u{30A}": 4, "K": 5, "\u{212A}": 6],
        ["": "", " ": " ", "\n": "\n"],
        .object(JSONObject((0..<50).map { ("key\(49 - $0)", JSONValue.number(Double($0) / 8)) })),
    ]

    @Test("parse(encode(v)) == v and encoding is idempotent", arguments: corpus)
    func roundTrip(_ value: JSONValue) throws {
        let bytes = CanonicalJSON.encode(value)
        let reparsed = try JSONParser.parse(bytes)
        #expect(reparsed == value)
        #expect(CanonicalJSON.encode(reparsed) == bytes)
        #expect(try CanonicalJSON.canonicalize(bytes) == bytes)
    }

    @Test("round trip of random values")
    func randomRoundTrips() throws {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &rng)
            let bytes = CanonicalJSON.encode(value)
            let reparsed = try JSONParser.parse(bytes)
            #expect(reparsed == value, "\(text(bytes))")
            #expect(CanonicalJSON.encode(reparsed) == bytes)
        }
    }

    static func randomValue(depth: Int, using rng: inout SplitMix64) -> JSONValue {
        let pick = Int.random(in: 0..<(depth >= 4 ? 5 : 8), using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            // Any finite double that the ledger accepts: random bit patterns and random integers.
            while true {
                let d = Bool.random(using: &rng)
                    ? Double(bitPattern: rng.next())
                    : Double(Int64.random(in: -9_007_199_254_740_991...9_007_199_254_740_991, using: &rng))
                if d.isFinite, d.magnitude <= 9_007_199_254_740_991 { return .number(d) }
            }
        case 3, 4: return .string(randomString(using: &rng))
        case 5, 6:
            var members: [(String, JSONValue)] = []
            var seen = Set<ExactKey>()
            for _ in 0..<Int.random(in: 0...20, using: &rng) {
                let key = randomString(using: &rng)
                if seen.insert(ExactKey(key)).inserted {
                    members.append((key, randomValue(depth: depth + 1, using: &rng)))
                }
            }
            return .object(JSONObject(members))
        default:
            return .array((0..<Int.random(in: 0...6, using: &rng)).map { _ in randomValue(depth: depth + 1, using: &rng) })
        }
    }

    static func randomString(using rng: inout SplitMix64) -> String {
        let pool: [Unicode.Scalar] = [
            "a", "b", "z", "A", "0", " ", "\"", "\\", "/", "\u{0}", "\u{8}", "\u{1F}", "\u{7F}", "\u{E9}", "\u{2028}",
            "\u{D7FF}", "\u{E000}", "\u{FB33}", "\u{FFFD}", "\u{1F600}", "\u{10FFFF}", "\u{301}",
        ]
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) { s.append(pool.randomElement(using: &rng)!) }
        return String(s)
    }
}
