import CustodyDomain
import CustodyModel
import Foundation
import Testing

/// An audit reads stored bodies in place (`CanonicalObjectView`) where an append reads a parsed tree. The
/// rules must reach the same verdict either way, so every accessor of `BodyReader` must give the same value,
/// or the same violation, from both.
@Suite("Body readers over canonical bytes")
struct BodyReaderViewTests {
    /// Every accessor on every member (and one missing member), recursively into objects and arrays of objects.
    static func transcript(_ r: BodyReader) -> [String] {
        func attempt<T>(_ name: String, _ key: String, _ read: () throws -> T) -> String {
            do { return "\(r.path) \(name)(\(key)) = \(try read())" } catch let error as RuleViolation {
                return "\(r.path) \(name)(\(key)) ! \(error.rule) \(error.category) \(error.detail) \(error.pointer ?? "-") \(error.logIndex.map(String.init) ?? "-")"
            } catch {
                return "\(r.path) \(name)(\(key)) ! unexpected \(error)"
            }
        }
        var lines: [String] = ["\(r.path) first key after m: \(r.firstKey(where: { $0 > "m" }) ?? "-")"]
        lines.append(attempt("closed", "parcel carats") { try r.closed(to: ["parcel", "carats"]).path })
        lines.append(attempt("alternative", "parcel subject") { try r.alternative(["parcel", "subject"]) })
        for key in r.object.keys + ["zzMissing"] {
            lines.append("\(r.path) has(\(key)) = \(r.has(key))")
            lines.append("\(r.path) value(\(key)) = \(r.value(key).map { String(decoding: CanonicalJSON.encode($0), as: UTF8.self) } ?? "-")")
            lines.append(attempt("string", key) { try r.string(key) })
            lines.append(attempt("optionalString", key) { try r.optionalString(key) ?? "-" })
            lines.append(attempt("string 1...3", key) { try r.string(key, length: 1...3) })
            lines.append(attempt("text", key) { try r.text(key) })
            lines.append(attempt("uri", key) { try r.uri(key) })
            lines.append(attempt("keyID", key) { try r.keyID(key) })
            lines.append(attempt("sha256", key) { try r.sha256(key) })
            lines.append(attempt("certificateNumber", key) { try r.certificateNumber(key) })
            lines.append(attempt("id", key) { try r.id(key) })
            lines.append(attempt("participantID", key) { try r.participantID(key) })
            lines.append(attempt("integer", key) { try r.integer(key) })
            lines.append(attempt("integer 1...1000", key) { try r.integer(key, in: 1...1000) })
            lines.append(attempt("logIndex", key) { try r.logIndex(key) })
            lines.append(attempt("country", key) { try r.country(key) })
            lines.append(attempt("date", key) { try r.date(key) })
            lines.append(attempt("optionalDate", key) { try r.optionalDate(key) ?? "-" })
            lines.append(attempt("commitment", key) { try r.commitment(key) })
            lines.append(attempt("optionalCommitment", key) { try r.optionalCommitment(key) ?? "-" })
            lines.append(attempt("ids", key) { try r.ids(key) })
            lines.append(attempt("ids min 0", key) { try r.ids(key, minimum: 0) })
            lines.append(attempt("objects", key) { try r.objects(key).flatMap(transcript) })
            lines.append(attempt("object", key) { try transcript(r.object(key)) })
        }
        return lines
    }

    /// The event bodies among the worked examples in Schemas/examples, canonicalised.
    static func exampleBodies() throws -> [[UInt8]] {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas/examples")
        var bodies: [[UInt8]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).sorted() where name.hasSuffix(".json") {
            guard case .object(let o) = try JSONParser.parse(Array(try Data(contentsOf: examples.appendingPathComponent(name)))),
                  o["type"] != nil, o["schemaVersion"] != nil else { continue }
            bodies.append(CanonicalJSON.encode(.object(o)))
        }
        return bodies
    }

    static func compare(_ canonical: [UInt8]) throws {
        let view = try #require(CanonicalObjectView(canonical), "\(String(decoding: canonical, as: UTF8.self))")
        guard case .object(let tree) = try JSONParser.parse(canonical) else { Issue.record("not an object"); return }
        let fromTree = BodyReader(tree), fromView = BodyReader(view)
        #expect(transcript(fromView) == transcript(fromTree), "\(String(decoding: canonical, as: UTF8.self))")
        #expect(CanonicalJSON.encode(.object(fromView.object)) == canonical)
        let type = tree["type"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "parcel.extract"
        #expect("\(CustodyRules.catalogue(type: type, body: fromView))" == "\(CustodyRules.catalogue(type: type, body: fromTree))")
    }

    @Test("the worked examples read the same from bytes as from a tree")
    func examples() throws {
        let bodies = try Self.exampleBodies()
        #expect(bodies.count >= 20)
        for body in bodies { try Self.compare(body) }
    }

    /// Random plain values, with the field names and shapes the accessors look for, so that each accessor
    /// meets every kind of value under the names it reads.
    static func randomValue(depth: Int, _ rng: inout some RandomNumberGenerator) -> JSONValue {
        let texts = ["", "P-1", "BW", "bw", "2024-02-29", "2023-02-29", String(repeating: "ab", count: 32),
                     String(repeating: "0f", count: 32), "a b", "x/y", "-lead", String(repeating: "z", count: 129), " ",
                     "https://example.org/a.pdf", "BW-2026/1", String(repeating: "c", count: 32)]
        switch Int.random(in: 0..<(depth < 3 ? 9 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2, 3: return .integer([0, 1, -1, 1000, 1001, 9_007_199_254_740_991, -9_007_199_254_740_991].randomElement(using: &rng)!)
        case 4, 5: return .string(texts.randomElement(using: &rng)!)
        case 6, 7: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in randomValue(depth: depth + 1, &rng) })
        default: return .object(randomObject(depth: depth + 1, &rng))
        }
    }

    static func randomObject(depth: Int, _ rng: inout some RandomNumberGenerator) -> JSONObject {
        let names = ["parcel", "carats", "date", "to", "outputs", "subject", "ids", "type", "schemaVersion", "x"]
        var members: [(String, JSONValue)] = []
        for name in names.shuffled(using: &rng).prefix(Int.random(in: 0...5, using: &rng)) {
            members.append((name, randomValue(depth: depth, &rng)))
        }
        return JSONObject(members)
    }

    @Test("random plain bodies read the same from bytes as from a tree")
    func randomBodies() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            try Self.compare(CanonicalJSON.encode(.object(Self.randomObject(depth: 0, &rng))))
        }
    }

    @Test("a view is made only of one plain canonical object, and reads an object inside a larger buffer")
    func viewBounds() throws {
        #expect(CanonicalObjectView(Array(#"{"a":1}"#.utf8)) != nil)
        for text in [#"{"a":1} "#, #"{"b":1,"a":2}"#, #"{"a":1.5}"#, #"{"a":"\n"}"#, #"[1]"#, #"{"a":1"#, ""] {
            #expect(CanonicalObjectView(Array(text.utf8)) == nil, "\(text)")
        }
        let envelope = Array(#"{"body":{"carats":12,"parcel":"P-1"},"keyId":"k"}"#.utf8)
        let view = try #require(CanonicalObjectView(envelope, range: 8..<36))
        #expect(view["parcel"]?.string == "P-1")
        #expect(view["carats"]?.int64 == 12)
        #expect(CanonicalObjectView(envelope, range: 8..<30) == nil)
    }
}
