import CustodyCrypto
import CustodyModel
import Foundation
import Testing

@testable import CustodyLedger

/// A batch request body is split into its elements and each is read alone, in place where it can be. Clients
/// must see what the protocol says: a body that is not JSON text is refused as a whole, with its first syntax
/// error; otherwise each item stands or falls alone, with what parsing it as a tree gives.
@Suite("Batch request bodies")
struct BatchBodyTests {
    /// What the body comes to, item by item: parsed as one tree when the parser takes it whole; each element
    /// parsed as a tree on its own when the body is well-formed JSON refused for something an element holds (the
    /// splitter finds the elements of well-formed JSON exactly: JSONArraySplitterTests); else the syntax error.
    static func reference(_ bytes: [UInt8]) -> Result<[Result<EventEnvelope, LedgerError>], LedgerError> {
        Result { () throws(LedgerError) in
            do throws(JSONParseError) { try JSONParser.checkSyntax(bytes) } catch { throw LedgerError(error) }
            let values: [Result<JSONValue, LedgerError>]
            if case .array(let tree)? = try? EventEnvelope.parseJSON(bytes) {
                values = tree.map { .success($0) }
            } else if let ranges = bytes.withUnsafeBufferPointer({ JSONArraySplitter.elements(of: $0) }) {
                values = ranges.map { range in
                    Result { () throws(LedgerError) in
                        do throws(JSONParseError) {
                            return try JSONParser.parse(Array(bytes[range]), maxDepth: JSONParser.defaultMaxDepth - 1)
                        } catch {
                            throw LedgerError(error)
                        }
                    }
                }
            } else {
                throw LedgerError(.invalidEnvelope, "a batch is a JSON array of envelopes")
            }
            guard !values.isEmpty else { throw LedgerError(.invalidEnvelope, "the batch is empty") }
            return values.map { value in Result { () throws(LedgerError) in try EventEnvelope.parse(value.get()) } }
        }
    }

    static func described(_ outcome: Result<[Result<EventEnvelope, LedgerError>], LedgerError>) -> [String] {
        switch outcome {
        case .failure(let error): return ["body: \(error)"]
        case .success(let items):
            return items.map { item in
                switch item {
                case .success(let envelope): StoredEnvelopeTests.described(envelope).joined(separator: " | ")
                case .failure(let error): "item: \(error) \(error.pointer ?? "")"
                }
            }
        }
    }

    func expectAgreement(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let decoded = BatchBody.decode(bytes) { $0 }
        #expect(Self.described(decoded) == Self.described(Self.reference(bytes)),
                "\(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    static func batch(_ items: [[UInt8]], separator: String = ",") -> [UInt8] {
        Array("[".utf8) + Array(items.joined(separator: Array(separator.utf8))) + Array("]".utf8)
    }

    @Test("canonical, spaced, reordered and accented envelopes, refused items and malformed bodies")
    func cases() throws {
        let key = SigningKey.generate()
        let plain = try (0..<3).map { try TestLog.event("trader", key: key, $0).leafInput }
        let accented = try EventEnvelope.sign(body: TestLog.body("site.register", signer: "trader", extra: [("name", .string("Société"))]),
                                              with: key).leafInput
        let text = String(decoding: plain[0], as: UTF8.self)
        let spaced = Array(text.replacingOccurrences(of: #","keyId""#, with: #",  "keyId""#).utf8)
        let envelope = try JSONParser.parse(plain[1])
        guard case .object(let members) = envelope else { Issue.record("not an object"); return }
        let reordered = Array(("{" + ["signature", "keyId", "body"].map { name in
            "\"\(name)\":" + String(decoding: CanonicalJSON.encode(members[name]!), as: UTF8.self)
        }.joined(separator: ",") + "}").utf8)
        let deep = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        let deeper = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)

        expectAgreement(Self.batch(plain))
        expectAgreement(Self.batch(plain, separator: " ,\n\t"))
        expectAgreement(Self.batch([plain[0], accented, spaced, reordered, plain[2]]))
        for refused in [#"{"body":{}}"#, "1", #""x""#, "null", "[]", #"{"body":{},"keyId":"x","signature":"y","extra":1}"#, deep] {
            expectAgreement(Self.batch([plain[0], Array(refused.utf8), plain[1]]))
        }
        for malformed in ["[]", " [ ] ", "[", "[1,]", "[,1]", "[1 2]", "[1]x", "[{]", #"[{"a":1,"a":2}]"#, "[9007199254740993]",
                          "[1e400]", "[" + deeper + "]", "[\"\u{0}\"]", #"[{"a":1,"a":2},]"#, #"[{"a":1,"a":2,}]"#, #"["\uD800" 1]"#] {
            expectAgreement(Array(malformed.utf8))
        }
        expectAgreement(Self.batch([plain[0], Array(#"{"body":{"a":1,"a":2}}"#.utf8)]))
        expectAgreement(Self.batch([plain[0], Array(text.dropLast(3).utf8)]))
    }

    @Test("an element that is well-formed JSON but refused for what it holds fails alone; a body that is not JSON fails whole")
    func contentRefusalsStandAlone() throws {
        let key = SigningKey.generate()
        let valid = try TestLog.event("trader", key: key).leafInput
        let deeper = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let refusals: [(String, LedgerError.Kind)] = [
            (#"{"x":9007199254740993}"#, .numberOutOfRange), (#"{"x":1e400}"#, .numberOutOfRange), (#"{"a":1,"a":2}"#, .invalidJSON),
            (#"{"a":"\uD800"}"#, .invalidJSON), (#"{"a":"\uDC00\uD800"}"#, .invalidJSON), (deeper, .invalidJSON),
            (#"{"body":{"a":1,"a":2},"keyId":"x","signature":"y"}"#, .invalidJSON), (#"{"body":{}}"#, .invalidEnvelope),
        ]
        for (element, kind) in refusals {
            let decoded = BatchBody.decode(Self.batch([valid, Array(element.utf8), valid])) { $0 }
            let items = try #require(try? decoded.get(), "\(element): \(decoded)")
            #expect(items.count == 3 && items[0].error == nil && items[2].error == nil, "\(element)")
            #expect(items[1].error?.kind == kind, "\(element): \(items[1])")
        }
        // A body that is not JSON text is refused as one, for its first syntax error, whatever an element holds.
        for (body, detail) in [(#"[{"a":1,"a":2},]"#, "trailing comma at byte 14"), (#"[{"a":1,"a":2,}]"#, "trailing comma at byte 13"),
                               (#"[{"x":1e400} 1]"#, "unexpected character '1' at byte 13"), ("[\"\u{1}\"]", "unescaped control character")] {
            let decoded = BatchBody.decode(Array(body.utf8)) { $0 }
            #expect(decoded.error?.kind == .invalidJSON && decoded.error?.detail.hasPrefix(detail) == true, "\(body): \(decoded)")
        }
    }

    @Test("a submitted batch of a valid envelope and an element with an out-of-range number: the first is logged, the second refused as item 1")
    func submittedBatch() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("miner-1")
        let body = Self.batch([try TestLog.event("miner-1", key: key).leafInput, Array(#"{"x":9007199254740993}"#.utf8)])
        guard case .batch(let results) = try await log.ledger.submit(body: body) else { Issue.record("not answered as a batch"); return }
        let answer = BatchResult(results: results.enumerated().map { BatchItemResult($1, item: $0) })
        #expect(answer.results.map(\.status) == ["accepted", "rejected"])
        #expect(answer.results[1].problem?.slug == "number-out-of-range" && answer.results[1].problem?.item == 1)
        await log.ledger.close()
    }

    @Test("random edits of a batch are decoded as the whole parse decodes them")
    func randomEdits() throws {
        let key = SigningKey.generate()
        let items = try (0..<3).map { try TestLog.event("trader", key: key, $0).leafInput }
        let bodies = [Self.batch(items), Self.batch(items, separator: ", ")]
        let alphabet = Array(#"{}[]",:0123456789-.eE "\aAzZ+/="#.utf8) + [0x00, 0x0A, 0xc3]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<1500 {
            var bytes = bodies.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...2, using: &rng) { randomEdit(&bytes, using: &rng, alphabet: alphabet) }
            expectAgreement(bytes)
        }
    }
}
