import Testing

@testable import CustodyModel

/// `CanonicalScanner` is what lets an audit skip parsing and re-encoding a stored envelope, so it must never
/// vouch for bytes that `encode(parse(_:))` would not give back unchanged, and it must vouch for the plain
/// events a log is made of.
@Suite("Canonical scanner")
struct CanonicalScannerTests {
    /// The scanner's claim for the whole input, or nil.
    func scans(_ input: [UInt8]) -> Bool {
        input.withUnsafeBufferPointer { CanonicalScanner.scanValue($0, from: 0) } == input.count
    }

    /// Soundness: whenever the scanner accepts all of `input`, parsing and re-encoding gives it back.
    func checkSound(_ input: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        guard scans(input) else { return }
        guard let value = try? JSONParser.parse(input) else {
            Issue.record("scanner accepted what the parser refuses: \(text(input))", sourceLocation: sourceLocation)
            return
        }
        #expect(CanonicalJSON.encode(value) == input, "scanner accepted non-canonical \(text(input))",
                sourceLocation: sourceLocation)
    }

    @Test("accepts the canonical form of plain values: ASCII text, safe integers, literals, sorted objects")
    func acceptsPlainCanonical() {
        var rng = SplitMix64(seed: 0x5ca9)
        for _ in 0..<500 {
            let bytes = CanonicalJSON.encode(Self.plainValue(depth: 0, using: &rng))
            #expect(scans(bytes), "\(text(bytes))")
        }
        for literal in ["0", "-1", "9007199254740991", "-9007199254740991", "true", "false", "null", "\"\"", "[]", "{}",
                        #"{"a":[1,{"b":null}],"b":"x y"}"#] {
            #expect(scans(utf8(literal)), "\(literal)")
        }
    }

    @Test("declines what it cannot prove canonical, canonical or not")
    func declines() {
        let cases = [
            #"{"b":1,"a":2}"#, #"{"a":1,"a":1}"#, #"{ "a":1}"#, #"[1, 2]"#, "01", "-0", "1.0", "1e3", "1E3", "0.5",
            "9007199254740992", "-9007199254740992", #""\n""#, #""\u00e9""#, "\"é\"", "\"\u{7F}\"", #""a"#, "[1,]",
            #"{"a":1,}"#, "tru", "nul", "", "[", #"{"a"}"#, #"{"a":}"#, "+1", "--1",
            String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        ]
        for c in cases {
            #expect(!scans(utf8(c)), "\(c)")
        }
    }

    @Test("never accepts what parse and encode would not give back: vectors, rejections, random edits")
    func soundness() throws {
        var corpus: [[UInt8]] = []
        for name in JCSVectorTests.names {
            corpus.append(try fixtureBytes("jcs/input/\(name).json"))
            corpus.append(try fixtureBytes("jcs/output/\(name).json"))
        }
        corpus += (ParserRejectionTests.syntax + ParserRejectionTests.numbers + ParserRejectionTests.strings
            + ParserRejectionTests.utf8Cases + ParserRejectionTests.structure).map(\.input)
        var rng = SplitMix64(seed: 0x8785)
        for _ in 0..<200 {
            corpus.append(CanonicalJSON.encode(Self.plainValue(depth: 0, using: &rng)))
            corpus.append(CanonicalJSON.encode(CanonicalEncodingTests.randomValue(depth: 0, using: &rng)))
        }
        let edits = Array(#"{}[]",:0123456789-+.eE "\atrufnl"#.utf8) + [0x00, 0x1f, 0x7f, 0xc3, 0xa9, 0xff]
        for input in corpus {
            checkSound(input)
            guard !input.isEmpty else { continue }
            for _ in 0..<20 {
                var edited = input
                let at = Int.random(in: 0..<edited.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: edited[at] = edits.randomElement(using: &rng)!
                case 1: edited.insert(edits.randomElement(using: &rng)!, at: at)
                default: edited.remove(at: at)
                }
                checkSound(edited)
            }
        }
    }

    @Test("records the outermost object's members and where the object ends")
    func members() throws {
        let input = utf8(#"{"a":{"z":1},"b":[1,2],"c":"x"}, trailing"#)
        let scanned = try #require(input.withUnsafeBufferPointer { CanonicalScanner.scanObject($0, from: 0) })
        #expect(text(Array(input[..<scanned.end])) == #"{"a":{"z":1},"b":[1,2],"c":"x"}"#)
        #expect(scanned.members.map { text(Array(input[$0.key])) } == ["a", "b", "c"])
        #expect(scanned.members.map { text(Array(input[$0.value])) } == [#"{"z":1}"#, "[1,2]", #""x""#])
    }

    /// A random value in the subset the scanner proves: printable ASCII text without `"` or `\`, safe integers.
    static func plainValue(depth: Int, using rng: inout SplitMix64) -> JSONValue {
        switch Int.random(in: 0..<(depth >= 4 ? 5 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .integer(Int64.random(in: -JSONValue.maxSafeInteger...JSONValue.maxSafeInteger, using: &rng))
        case 3: return .integer(Int64.random(in: -3...3, using: &rng))
        case 4: return .string(plainString(using: &rng))
        case 5:
            var members: [(String, JSONValue)] = []
            var keys = Set<String>()
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let key = plainString(using: &rng)
                if keys.insert(key).inserted { members.append((key, plainValue(depth: depth + 1, using: &rng))) }
            }
            return .object(JSONObject(members))
        default:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in plainValue(depth: depth + 1, using: &rng) })
        }
    }

    static func plainString(using rng: inout SplitMix64) -> String {
        let pool = Array(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~".unicodeScalars)
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) { s.append(pool.randomElement(using: &rng)!) }
        return String(s)
    }
}
