import Foundation
import Testing

@testable import CustodyModel

/// One input the strict parser must reject, with the exact error.
struct Rejection: Sendable, CustomTestStringConvertible {
    let name: String
    let input: [UInt8]
    let kind: JSONParseError.Kind
    let offset: Int
    var maxDepth = JSONParser.defaultMaxDepth

    init(_ name: String, _ input: String, _ kind: JSONParseError.Kind, at offset: Int) {
        self.init(name, Array(input.utf8), kind, at: offset)
    }

    init(_ name: String, _ input: [UInt8], _ kind: JSONParseError.Kind, at offset: Int) {
        self.name = name
        self.input = input
        self.kind = kind
        self.offset = offset
    }

    var testDescription: String { name }
}

private func ascii(_ c: Character) -> UInt8 { c.asciiValue! }

/// `"` + bytes + `"`
private func quoted(_ bytes: [UInt8]) -> [UInt8] { [0x22] + bytes + [0x22] }

@Suite("Parser rejections")
struct ParserRejectionTests {
    static let syntax: [Rejection] = [
        Rejection("empty input", "", .emptyInput, at: 0),
        Rejection("only whitespace", " \n\t\r", .emptyInput, at: 4),
        Rejection("byte-order mark", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], .byteOrderMark, at: 0),
        Rejection("trailing comma in array", "[1,2,]", .trailingComma, at: 4),
        Rejection("trailing comma in object", #"{"a":1 , }"#, .trailingComma, at: 7),
        Rejection("leading comma", "[,1]", .unexpectedCharacter(ascii(",")), at: 1),
        Rejection("double comma", "[1,,2]", .unexpectedCharacter(ascii(",")), at: 3),
        Rejection("empty object with comma", "{,}", .unexpectedCharacter(ascii(",")), at: 1),
        Rejection("block comment", "[1 /* x */]", .unexpectedCharacter(ascii("/")), at: 3),
        Rejection("line comment", "// c\n1", .unexpectedCharacter(ascii("/")), at: 0),
        Rejection("hash comment", "# c\n1", .unexpectedCharacter(ascii("#")), at: 0),
        Rejection("single-quoted string", "['a']", .unexpectedCharacter(ascii("'")), at: 1),
        Rejection("single-quoted key", "{'a':1}", .unexpectedCharacter(ascii("'")), at: 1),
        Rejection("unquoted key", "{a:1}", .unexpectedCharacter(ascii("a")), at: 1),
        Rejection("number key", "{1:1}", .unexpectedCharacter(ascii("1")), at: 1),
        Rejection("missing colon", #"{"a" 1}"#, .unexpectedCharacter(ascii("1")), at: 5),
        Rejection("equals for colon", #"{"a"=1}"#, .unexpectedCharacter(ascii("=")), at: 4),
        Rejection("missing comma", "[1 2]", .unexpectedCharacter(ascii("2")), at: 3),
        Rejection("colon in array", "[1:2]", .unexpectedCharacter(ascii(":")), at: 2),
        Rejection("mismatched close", "[1}", .unexpectedCharacter(ascii("}")), at: 2),
        Rejection("mismatched close in object", #"{"a":1]"#, .unexpectedCharacter(ascii("]")), at: 6),
        Rejection("NaN", "NaN", .unexpectedCharacter(ascii("N")), at: 0),
        Rejection("Infinity", "[Infinity]", .unexpectedCharacter(ascii("I")), at: 1),
        Rejection("capitalised literal", "True", .unexpectedCharacter(ascii("T")), at: 0),
        Rejection("misspelt literal", "[nul]", .unexpectedCharacter(ascii("]")), at: 4),
        Rejection("literal with suffix", "nullx", .trailingData, at: 4),
        Rejection("undefined", "undefined", .unexpectedCharacter(ascii("u")), at: 0),
        Rejection("valid UTF-8 outside a string", "[\u{E9}]", .unexpectedCharacter(0xC3), at: 1),
        Rejection("non-breaking space as whitespace", "[\u{A0}1]", .unexpectedCharacter(0xC2), at: 1),
        Rejection("form feed as whitespace", "[\u{0C}1]", .unexpectedCharacter(0x0C), at: 1),
        Rejection("trailing value", "1 2", .trailingData, at: 2),
        Rejection("trailing bracket", "[1]]", .trailingData, at: 3),
        Rejection("trailing object", "{} {}", .trailingData, at: 3),
        Rejection("trailing NUL", "{}\u{0}", .trailingData, at: 2),
        Rejection("unclosed array", "[1,", .unexpectedEnd, at: 3),
        Rejection("unclosed array after value", "[1", .unexpectedEnd, at: 2),
        Rejection("open bracket only", "[", .unexpectedEnd, at: 1),
        Rejection("open brace only", "{", .unexpectedEnd, at: 1),
        Rejection("key without colon", #"{"a""#, .unexpectedEnd, at: 4),
        Rejection("key without value", #"{"a":"#, .unexpectedEnd, at: 5),
        Rejection("unterminated string", #""abc"#, .unexpectedEnd, at: 4),
        Rejection("truncated literal", "tru", .unexpectedEnd, at: 3),
        Rejection("truncated escape", #""\"#, .unexpectedEnd, at: 2),
        Rejection("truncated unicode escape", #""\u12"#, .unexpectedEnd, at: 5),
    ]

    static let numbers: [Rejection] = [
        Rejection("leading zero", "01", .invalidNumber, at: 0),
        Rejection("double zero", "[00]", .invalidNumber, at: 1),
        Rejection("negative leading zero", "[-01]", .invalidNumber, at: 1),
        Rejection("leading zero with fraction", "01.5", .invalidNumber, at: 0),
        Rejection("plus sign", "+1", .invalidNumber, at: 0),
        Rejection("plus sign in array", "[1,+1]", .invalidNumber, at: 3),
        Rejection("leading dot", ".5", .invalidNumber, at: 0),
        Rejection("negative leading dot", "-.5", .invalidNumber, at: 0),
        Rejection("trailing dot", "1.", .invalidNumber, at: 0),
        Rejection("trailing dot in array", "[1.]", .invalidNumber, at: 1),
        Rejection("dot before exponent", "1.e5", .invalidNumber, at: 0),
        Rejection("empty exponent", "1e", .invalidNumber, at: 0),
        Rejection("signed empty exponent", "[1e+]", .invalidNumber, at: 1),
        Rejection("lone minus", "-", .invalidNumber, at: 0),
        Rejection("minus letter", "[-a]", .invalidNumber, at: 1),
        Rejection("negative infinity", "-Infinity", .invalidNumber, at: 0),
        Rejection("hex", "0x10", .trailingData, at: 1),
        Rejection("two dots", "[1.5.3]", .unexpectedCharacter(ascii(".")), at: 4),
        Rejection("overflow", "1e400", .numberOutOfRange("1e400"), at: 0),
        Rejection("negative overflow", "[-1e400]", .numberOutOfRange("-1e400"), at: 1),
        Rejection("overflow by digits", "1" + String(repeating: "0", count: 400),
                  .numberOutOfRange(String(repeating: "1", count: 1) + String(repeating: "0", count: 39) + "…"), at: 0),
        Rejection("2^53", "[9007199254740992]", .numberOutOfRange("9007199254740992"), at: 1),
        Rejection("-(2^53+1)", "-9007199254740993", .numberOutOfRange("-9007199254740993"), at: 0),
        Rejection("1e20", #"{"n":1e20}"#, .numberOutOfRange("1e20"), at: 5),
        Rejection("1E16", "1E16", .numberOutOfRange("1E16"), at: 0),
        Rejection("123e18", "123e18", .numberOutOfRange("123e18"), at: 0),
        Rejection("1e21", "1e21", .numberOutOfRange("1e21"), at: 0),
        Rejection("fraction that rounds to a large integer", "9007199254740993.5",
                  .numberOutOfRange("9007199254740993.5"), at: 0),
        Rejection("largest double", "1.7976931348623157e308", .numberOutOfRange("1.7976931348623157e308"), at: 0),
    ]

    static let strings: [Rejection] = [
        Rejection("raw tab", "\"a\tb\"", .controlCharacterInString, at: 2),
        Rejection("raw newline", "[\"a\nb\"]", .controlCharacterInString, at: 3),
        Rejection("raw NUL", "\"\u{0}\"", .controlCharacterInString, at: 1),
        Rejection("raw 0x1F", "\"\u{1F}\"", .controlCharacterInString, at: 1),
        Rejection("raw control after an escape", "\"\\n\u{1}\"", .controlCharacterInString, at: 3),
        Rejection("raw control in key", "{\"a\u{7}\":1}", .controlCharacterInString, at: 3),
        Rejection("unknown escape", #""\x41""#, .invalidEscape, at: 1),
        Rejection("escaped single quote", #""\'""#, .invalidEscape, at: 1),
        Rejection("uppercase U escape", #""\U0041""#, .invalidEscape, at: 1),
        Rejection("bad hex digit", #""ab\u12G4""#, .invalidEscape, at: 3),
        Rejection("short unicode escape", #""\u12""#, .invalidEscape, at: 1),
        Rejection("escaped raw newline", "\"\\\n\"", .invalidEscape, at: 1),
        Rejection("bad hex in low surrogate", #""\uD800\uDZ00""#, .invalidEscape, at: 7),
        Rejection("lone high surrogate", #""\uD800""#, .loneSurrogate, at: 1),
        Rejection("lone low surrogate", #""\uDC00""#, .loneSurrogate, at: 1),
        Rejection("low then high", #""\uDC00\uD800""#, .loneSurrogate, at: 1),
        Rejection("high then high", #""a\uD83D\uD83D""#, .loneSurrogate, at: 2),
        Rejection("high then BMP escape", #""\uD800\u0041""#, .loneSurrogate, at: 1),
        Rejection("high then letter", #""\uD800x""#, .loneSurrogate, at: 1),
        Rejection("high then other escape", #""\uD800\n""#, .loneSurrogate, at: 1),
        Rejection("high surrogate at end of key", #"{"\uDBFF":1}"#, .loneSurrogate, at: 2),
        Rejection("high surrogate then end", #""\uD800"#, .unexpectedEnd, at: 7),
    ]

    static let utf8Cases: [Rejection] = [
        Rejection("overlong 2-byte slash", quoted([0xC0, 0xAF]), .invalidUTF8, at: 1),
        Rejection("overlong 2-byte C1", quoted([0xC1, 0xBF]), .invalidUTF8, at: 1),
        Rejection("overlong 3-byte", quoted([0xE0, 0x80, 0xAF]), .invalidUTF8, at: 1),
        Rejection("overlong 3-byte boundary", quoted([0xE0, 0x9F, 0xBF]), .invalidUTF8, at: 1),
        Rejection("overlong 4-byte", quoted([0xF0, 0x80, 0x80, 0xAF]), .invalidUTF8, at: 1),
        Rejection("overlong 4-byte boundary", quoted([0xF0, 0x8F, 0xBF, 0xBF]), .invalidUTF8, at: 1),
        Rejection("UTF-8 encoded high surrogate", quoted([0xED, 0xA0, 0x80]), .invalidUTF8, at: 1),
        Rejection("UTF-8 encoded low surrogate", quoted([0x61, 0xED, 0xBF, 0xBF]), .invalidUTF8, at: 2),
        Rejection("UTF-8 encoded surrogate pair (CESU-8)", quoted([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
                  .invalidUTF8, at: 1),
        Rejection("above U+10FFFF", quoted([0xF4, 0x90, 0x80, 0x80]), .invalidUTF8, at: 1),
        Rejection("F5 lead", quoted([0xF5, 0x80, 0x80, 0x80]), .invalidUTF8, at: 1),
        Rejection("FF byte", quoted([0xFF]), .invalidUTF8, at: 1),
        Rejection("FE byte", quoted([0xFE]), .invalidUTF8, at: 1),
        Rejection("stray continuation", quoted([0x61, 0x80]), .invalidUTF8, at: 2),
        Rejection("truncated 2-byte before quote", quoted([0xC3]), .invalidUTF8, at: 1),
        Rejection("truncated 3-byte before quote", quoted([0xE2, 0x82]), .invalidUTF8, at: 1),
        Rejection("truncated 4-byte before quote", quoted([0xF0, 0x9F, 0x98]), .invalidUTF8, at: 1),
        Rejection("truncated at end of input", [0x22, 0xE2, 0x82], .invalidUTF8, at: 1),
        Rejection("bad continuation", quoted([0xE2, 0x28, 0xA1]), .invalidUTF8, at: 1),
        Rejection("invalid UTF-8 after an escape", [0x22, 0x5C, 0x6E, 0xC0, 0x80, 0x22], .invalidUTF8, at: 3),
        Rejection("invalid UTF-8 in key", [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], .invalidUTF8, at: 2),
        Rejection("invalid UTF-8 outside a string", [0x5B, 0xFF, 0x5D], .invalidUTF8, at: 1),
        Rejection("invalid UTF-8 after the value", [0x31, 0x20, 0xC0, 0x80], .invalidUTF8, at: 2),
        Rejection("invalid UTF-8 where a comma goes", [0x5B, 0x31, 0x80, 0x5D], .invalidUTF8, at: 2),
        Rejection("UTF-16 input", [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00], .invalidUTF8, at: 0),
    ]

    static let structure: [Rejection] = [
        Rejection("duplicate key", #"{"a":1,"a":2}"#, .duplicateKey("a"), at: 7),
        Rejection("duplicate key after unescaping", #"{"a":1, "\u0061":2}"#, .duplicateKey("a"), at: 8),
        Rejection("duplicate non-BMP key via surrogate escapes", "{\"\u{1F600}\":1,\"\\ud83d\\ude00\":2}",
                  .duplicateKey("\u{1F600}"), at: 10),
        Rejection("duplicate empty key", #"{"":1,"b":2,"":3}"#, .duplicateKey(""), at: 12),
        Rejection("duplicate key in nested object", #"[{"a":{"x":1,"y":2,"x":3}}]"#, .duplicateKey("x"), at: 19),
        Rejection("duplicate key differing only in value type", #"{"type":"a","type":null}"#,
                  .duplicateKey("type"), at: 12),
        Rejection("too deep arrays", String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
                  .tooDeep, at: 64),
        Rejection("too deep objects", String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65),
                  .tooDeep, at: 5 * 64),
        Rejection("too deep empty innermost", "[[[[]]]]", .tooDeep, at: 3).withMaxDepth(3),
        Rejection("too deep empty object", #"{"a":{"b":{}}}"#, .tooDeep, at: 10).withMaxDepth(2),
        Rejection("depth zero allows no containers", "[]", .tooDeep, at: 0).withMaxDepth(0),
    ]

    @Test("syntax errors", arguments: syntax)
    func syntaxErrors(_ c: Rejection) { check(c) }

    @Test("malformed and out-of-range numbers", arguments: numbers)
    func numberErrors(_ c: Rejection) { check(c) }

    @Test("string errors", arguments: strings)
    func stringErrors(_ c: Rejection) { check(c) }

    @Test("invalid UTF-8", arguments: utf8Cases)
    func utf8Errors(_ c: Rejection) { check(c) }

    @Test("duplicate keys and depth", arguments: structure)
    func structureErrors(_ c: Rejection) { check(c) }

    func check(_ c: Rejection) {
        let expected = JSONParseError(c.kind, at: c.offset)
        #expect(throws: expected) { try JSONParser.parse(c.input, maxDepth: c.maxDepth) }
        // Every entry point reports the same error.
        #expect(throws: expected) { try JSONParser.parse(Data(c.input), maxDepth: c.maxDepth) }
        if c.maxDepth == JSONParser.defaultMaxDepth {
            #expect(throws: expected) { try CanonicalJSON.canonicalize(c.input) }
        }
    }

    @Test("checkSyntax reports each syntax error as parse does, and lets through what is refused only for its content",
          arguments: syntax + numbers + strings + utf8Cases + structure)
    func syntaxOnly(_ c: Rejection) {
        switch c.kind {
        case .duplicateKey, .numberOutOfRange, .loneSurrogate, .tooDeep:
            #expect(throws: Never.self) { try JSONParser.checkSyntax(c.input) }
        default:
            #expect(throws: JSONParseError(c.kind, at: c.offset)) { try JSONParser.checkSyntax(c.input) }
        }
    }

    @Test("duplicate keys in large objects are found (hash-set path)")
    func duplicateInLargeObject() throws {
        for count in [15, 16, 17, 40, 1000] {
            var members = (0..<count).map { "\"k\($0)\":\($0)" }
            let unique = utf8("{" + members.joined(separator: ",") + "}")
            let object = try #require(try JSONParser.parse(unique).objectValue)
            #expect(object.count == count)
            #expect(object["k\(count - 1)"] == .number(Double(count - 1)))

            // Repeat the first key at the end, and a middle key after that.
            members.append("\"k0\":0")
            let prefix = "{" + members.dropLast().joined(separator: ",") + ","
            #expect(throws: JSONParseError(.duplicateKey("k0"), at: prefix.utf8.count)) {
                try JSONParser.parse(utf8("{" + members.joined(separator: ",") + "}"))
            }
            let middle = "k\(count / 2)"
            let tail = "{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"zz\":1,"
            #expect(throws: JSONParseError(.duplicateKey(middle), at: tail.utf8.count)) {
                try JSONParser.parse(utf8(tail + "\"\(middle)\":2}"))
            }
        }
    }

    @Test("the same key in different objects is fine")
    func sameKeyInSiblings() throws {
        let v = try JSONParser.parse(utf8(#"[{"a":1},{"a":2},{"b":{"a":3}}]"#))
        #expect(v.arrayValue?.count == 3)
    }

    @Test("NumberPolicy.anyFinite accepts big integers but not infinities")
    func anyFinitePolicy() throws {
        #expect(try JSONParser.parse(utf8("1e20"), numbers: .anyFinite) == .number(1e20))
        #expect(try JSONParser.parse(utf8("9007199254740993"), numbers: .anyFinite) == .number(9_007_199_254_740_992))
        #expect(try JSONParser.parse(utf8("1.7976931348623157e308"), numbers: .anyFinite)
            == .number(.greatestFiniteMagnitude))
        #expect(throws: JSONParseError(.numberOutOfRange("1e309"), at: 0)) {
            try JSONParser.parse(utf8("1e309"), numbers: .anyFinite)
        }
        #expect(throws: JSONParseError(.numberOutOfRange("-1.8e308"), at: 1)) {
            try JSONParser.parse(utf8("[-1.8e308]"), numbers: .anyFinite)
        }
    }

    @Test("error descriptions are one sentence with the offset")
    func descriptions() {
        #expect(JSONParseError(.duplicateKey("type"), at: 42).description == #"duplicate key "type" at byte 42"#)
        #expect(JSONParseError(.duplicateKey("a\"\n"), at: 1).description == #"duplicate key "a\"\u000a" at byte 1"#)
        #expect(JSONParseError(.unexpectedCharacter(0x27), at: 3).description == "unexpected character ''' at byte 3")
        #expect(JSONParseError(.unexpectedCharacter(0xC3), at: 0).description == "unexpected byte 0xC3 at byte 0")
        #expect(JSONParseError(.unexpectedCharacter(0x0C), at: 0).description == "unexpected byte 0x0C at byte 0")
        #expect(JSONParseError(.numberOutOfRange("1e400"), at: 7).description
            == "number 1e400 at byte 7 is out of range (numbers must be finite and integers within ±(2^53−1))")
        #expect(JSONParseError(.invalidUTF8, at: 9).description == "invalid UTF-8 at byte 9")
        #expect(JSONParseError(.trailingComma, at: 4).description == "trailing comma at byte 4")
        #expect(JSONParseError(.tooDeep, at: 64).description == "nesting too deep at byte 64")
        let long = String(repeating: "k", count: 100)
        #expect(JSONParseError(.duplicateKey(long), at: 0).description
            == "duplicate key \"\(String(repeating: "k", count: 40))…\" at byte 0")
    }

    @Test("every rejection's description names its offset")
    func allDescriptionsHaveOffsets() {
        for c in Self.syntax + Self.numbers + Self.strings + Self.utf8Cases + Self.structure {
            let d = JSONParseError(c.kind, at: c.offset).description
            #expect(d.contains("at byte \(c.offset)"), "\(c.name): \(d)")
        }
    }
}

extension Rejection {
    func withMaxDepth(_ depth: Int) -> Rejection {
        var copy = self
        copy.maxDepth = depth
        return copy
    }
}
