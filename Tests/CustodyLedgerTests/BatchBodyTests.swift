import CustodyCrypto
import CustodyModel
import Foundation
import Testing

@testable import CustodyLedger

/// A batch request body is split into its elements and each is read alone, in place where it can be. Clients
/// must see exactly what parsing the body as one tree gave: the same envelopes, the same refusals of single
/// items, and the same refusal of a malformed body as a whole.
@Suite("Batch request bodies")
struct BatchBodyTests {
    /// What parsing the body as one tree gives, item by item.
    static func reference(_ bytes: [UInt8]) -> Result<[Result<EventEnvelope, LedgerError>], LedgerError> {
        Result { () throws(LedgerError) in
            guard case .array(let values) = try EventEnvelope.parseJSON(bytes) else {
                throw LedgerError(.invalidEnvelope, "a batch is a JSON array of envelopes")
            }
            guard !values.isEmpty else { throw LedgerError(.invalidEnvelope, "the batch is empty") }
            return values.map { value in Result { () throws(LedgerError) in try EventEnvelope.parse(value) } }
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
                          "[1e400]", "[" + deeper + "]", "[\"\u{0}\"]"] {
            expectAgreement(Array(malformed.utf8))
        }
        expectAgreement(Self.batch([plain[0], Array(#"{"body":{"a":1,"a":2}}"#.utf8)]))
        expectAgreement(Self.batch([plain[0], Array(text.dropLast(3).utf8)]))
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
