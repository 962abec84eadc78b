import Foundation
import Testing

@testable import CustodyModel

@Suite("Parser acceptance")
struct ParserTests {
    @Test("scalars and whitespace")
    func scalars() throws {
        #expect(try JSONParser.parse(utf8("null")) == .null)
        #expect(try JSONParser.parse(utf8(" \t\r\ntrue \n")) == .bool(true))
        #expect(try JSONParser.parse(utf8("false")) == .bool(false))
        #expect(try JSONParser.parse(utf8("0")) == .number(0))
        #expect(try JSONParser.parse(utf8(#""""#)) == .string(""))
        #expect(try JSONParser.parse(utf8(#"  "x"  "#)) == .string("x"))
        #expect(try JSONParser.parse(utf8("[ ]")) == .array([]))
        #expect(try JSONParser.parse(utf8("{ \n}")) == .object(JSONObject()))
    }

    @Test("structures keep document order")
    func structures() throws {
        let v = try JSONParser.parse(utf8(#" { "z" : [1, {"b":null,"a":[]}], "a" : "s", "m":{} } "#))
        let object = try #require(v.objectValue)
        #expect(object.keys == ["z", "a", "m"])
        #expect(v["a"] == .string("s"))
        #expect(v["m"] == .object([:]))
        let inner = try #require(v["z"]?.arrayValue?[1].objectValue)
        #expect(inner.keys == ["b", "a"])
        #expect(inner["b"] == .null)
        #expect(inner["a"] == .array([]))
    }

    @Test("escapes decode")
    func escapes() throws {
        let v = try JSONParser.parse(utf8(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u00E9\u20ac\u0000\u001f\u007f""#))
        #expect(v == .string("\"\\/\u{8}\u{C}\n\r\tA\u{E9}\u{E9}\u{20AC}\u{0}\u{1F}\u{7F}"))
        #expect(try JSONParser.parse(utf8(#""\ud83d\ude00""#)) == .string("\u{1F600}"))
        #expect(try JSONParser.parse(utf8(#""\uD83D\uDE00x""#)) == .string("\u{1F600}x"))
        #expect(try JSONParser.parse(utf8(#""\udbff\udfff""#)) == .string("\u{10FFFF}"))
        #expect(try JSONParser.parse(utf8(#""\ud800\udc00""#)) == .string("\u{10000}"))
        #expect(try JSONParser.parse(utf8(#""a\"b""#)) == .string("a\"b"))
        // Escaped and literal forms of one string are the same value.
        #expect(try JSONParser.parse(utf8(#""\u00c5""#)) == JSONParser.parse(utf8("\"\u{C5}\"")))
    }

    @Test("literal UTF-8 of every length, DEL, U+2028 and noncharacters are accepted")
    func literalUnicode() throws {
        let s = "\u{7F}\u{E9}\u{20AC}\u{1F600}\u{10FFFF}\u{2028}\u{2029}\u{FFFF}\u{FEFF}\u{D7FF}\u{E000}"
        #expect(try JSONParser.parse(utf8("\"\(s)\"")) == .string(s))
        // Boundaries of Unicode Table 3-7.
        let boundaries: [[UInt8]] = [
            [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
            [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        ]
        for b in boundaries {
            let v = try JSONParser.parse([0x22] + b + [0x22])
            #expect(v.stringValue.map { Array($0.utf8) } == b)
        }
    }

    @Test("a byte-order mark inside a string is ordinary text")
    func bomInString() throws {
        #expect(try JSONParser.parse(utf8("\"\u{FEFF}\"")) == .string("\u{FEFF}"))
        #expect(try JSONParser.parse(utf8(" \"\u{FEFF}\"")) == .string("\u{FEFF}"))
    }

    @Test("canonically equivalent keys are distinct keys")
    func exactKeys() throws {
        let v = try JSONParser.parse(utf8("{\"\u{C5}\":1,\"A\u{30A}\":2,\"K\":3,\"\u{212A}\":4}"))
        let o = try #require(v.objectValue)
        #expect(o.count == 4)
        #expect(o["\u{C5}"] == .number(1))
        #expect(o["A\u{30A}"] == .number(2))
        #expect(o["K"] == .number(3))
        #expect(o["\u{212A}"] == .number(4))
    }

    @Test("numbers parse to the correctly rounded double", arguments: [
        ("0", 0.0), ("-0", -0.0), ("-0.0", -0.0), ("1", 1), ("-1", -1), ("10", 10), ("1.5", 1.5),
        ("0.1", 0.1), ("-0.1", -0.1), ("1e2", 100), ("1E2", 100), ("1e+2", 100), ("100e-2", 1), ("4.50", 4.5),
        ("2e-3", 0.002), ("0.000000000000000000000000001", 1e-27), ("1e-7", 1e-7), ("1E-7", 1e-7),
        ("123456789012345", 123_456_789_012_345), ("9007199254740991", 9_007_199_254_740_991),
        ("-9007199254740991", -9_007_199_254_740_991), ("9007199254740990.9", 9_007_199_254_740_991),
        ("333333333.33333329", 333_333_333.33333329), ("0.1000000000000000055511151231257827", 0.1),
        ("2.2250738585072011e-308", Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)), ("2.2250738585072014e-308", 2.2250738585072014e-308),
        ("4.9406564584124654e-324", .leastNonzeroMagnitude), ("5e-324", .leastNonzeroMagnitude),
        ("2.4703282292062328e-324", .leastNonzeroMagnitude),
        ("2.4703282292062327e-324", 0), ("1e-400", 0), ("-1e-400", -0.0), ("0e999999999999", 0),
        ("0.00000000000000000000000000000000000000000000000000000000000000000000000000000001", 1e-80),
        // Exactly halfway between 1 and the next double: ties to even. Either side of it: nearest.
        ("1.00000000000000011102230246251565404236316680908203125", 1.0),
        ("1.000000000000000111022302462515654042363166809082031251", 1.0000000000000002),
        ("1.00000000000000011102230246251565404236316680908203124", 1.0),
        ("3.14159265358979323846264338327950288419716939937510", 3.141592653589793),
        ("123.456e-2", 1.23456), ("8.41e21", 8.41e21), // only under .anyFinite
    ] as [(String, Double)])
    func numbers(_ literal: String, _ expected: Double) throws {
        // Values beyond 2^53−1 are rejected by the ledger policy (see the rejection tests).
        let policy: JSONParser.NumberPolicy = expected.magnitude > 9_007_199_254_740_991 ? .anyFinite : .safeIntegers
        let v = try JSONParser.parse(utf8(literal), numbers: policy)
        let d = try #require(v.doubleValue)
        #expect(d.bitPattern == expected.bitPattern, "\(literal) → \(d), want \(expected)")
    }

    @Test("numbers end at any delimiter")
    func numberDelimiters() throws {
        let v = try JSONParser.parse(utf8(#"{"a":1,"b":[2,3.5],"c":-4e1}"#))
        #expect(v == .object(["a": 1, "b": [2, 3.5], "c": -40]))
        #expect(try JSONParser.parse(utf8("[1\n,\t2\r]")) == [1, 2])
    }

    @Test("depth limit is inclusive")
    func depthLimit() throws {
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(utf8(deepest)) }
        #expect(throws: Never.self) { try JSONParser.parse(utf8("[[1]]"), maxDepth: 2) }
        #expect(throws: Never.self) { try JSONParser.parse(utf8("1"), maxDepth: 0) }
        // The parser itself does not recurse, so a big limit does not risk its stack. (Releasing the
        // resulting value does recurse, hence the moderate depth here.)
        let veryDeep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        let v = try JSONParser.parse(utf8(veryDeep), maxDepth: 5_000)
        var depth = 0
        var cursor = v
        while let inner = cursor.arrayValue?.first {
            depth += 1
            cursor = inner
        }
        #expect(depth == 4_999)
    }

    @Test("all entry points agree")
    func entryPoints() throws {
        let bytes = utf8(#"{"b":[true,false,null],"a":"\u00e9"}"#)
        let fromArray = try JSONParser.parse(bytes)
        #expect(try JSONParser.parse(Data(bytes)) == fromArray)
        let fromRaw = try bytes.withUnsafeBytes { raw in try JSONParser.parse(raw) }
        #expect(fromRaw == fromArray)
        let fromBuffer = try bytes.withUnsafeBufferPointer { buffer in try JSONParser.parse(buffer) }
        #expect(fromBuffer == fromArray)
        #expect(throws: JSONParseError(.emptyInput, at: 0)) { try JSONParser.parse(Data()) }
    }

    @Test("long strings with and without escapes")
    func longStrings() throws {
        let plain = String(repeating: "abc\u{E9}\u{1F600}", count: 2000)
        #expect(try JSONParser.parse(utf8("\"\(plain)\"")) == .string(plain))
        let escaped = String(repeating: #"x\n\u00e9\ud83d\ude00"#, count: 2000)
        let want = String(repeating: "x\n\u{E9}\u{1F600}", count: 2000)
        #expect(try JSONParser.parse(utf8("\"\(escaped)\"")) == .string(want))
    }
}
