import CustodyCrypto
import CustodyDomain
import CustodyLog
import CustodyModel
import Foundation
import Testing

@testable import CustodyLedger
@testable import CustodyStore

/// The audit's fast path reads stored envelopes by position (`StoredEnvelope`) instead of parsing them. It must
/// agree with `EventEnvelope.parse` on every envelope it reads, and leave everything else to it.
@Suite("Stored envelopes read by position")
struct StoredEnvelopeTests {
    static func envelopes() throws -> [EventEnvelope] {
        let key = SigningKey.generate()
        return try (0..<4).map { try TestLog.event("trader", key: key, $0) } + [
            try EventEnvelope.sign(body: TestLog.registration("miner-1", key: key, roles: ["miner", "exporter"]), with: key),
            try EventEnvelope.sign(body: TestLog.body("parcel.extract", signer: "m.1:x", extra: [
                ("parcel", .string("P-1")), ("carats", .integer(12_345)), ("stones", .integer(0)),
                ("tags", .array([.null, .bool(true), .bool(false), .integer(-7), .object(JSONObject())])),
            ]), with: key),
        ]
    }

    /// The fields both readers give.
    func fields(_ e: EventEnvelope) -> [String] {
        [Hex.encode(e.canonicalBody), e.keyID, Hex.encode(e.signature), e.type, e.signer, "\(e.occurredAtMillis)"]
    }

    /// Everything an envelope gives its users, body included.
    static func described(_ e: EventEnvelope) -> [String] {
        [Hex.encode(e.canonicalBody), Hex.encode(e.eventID), e.keyID, Hex.encode(e.signature), e.type, e.signer, e.occurredAt,
         "\(e.occurredAtMillis)", String(decoding: CanonicalJSON.encode(.object(e.body)), as: UTF8.self), String(decoding: e.leafInput, as: UTF8.self)]
    }

    /// The full parse alone, without the fast path `EventEnvelope.parse(_:)` takes first.
    static func fullParse(_ bytes: [UInt8]) throws(LedgerError) -> EventEnvelope {
        try EventEnvelope.parse(try EventEnvelope.parseJSON(bytes))
    }

    func fields(_ s: StoredEnvelope, in bytes: [UInt8]) -> [String] {
        [Hex.encode(Array(bytes[s.bodyRange])), s.keyID, Hex.encode(s.signature), s.type, s.signer, "\(s.occurredAt)"]
    }

    @Test("reads the plain envelopes a log holds, with the fields the full parse gives")
    func readsPlainEnvelopes() throws {
        for envelope in try Self.envelopes() {
            let stored = try #require(StoredEnvelope(envelope.leafInput), "\(String(decoding: envelope.leafInput, as: UTF8.self))")
            #expect(fields(stored, in: envelope.leafInput) == fields(envelope))
        }
    }

    @Test("leaves to the full parse what it cannot prove: escapes, non-ASCII text, fractions, other shapes")
    func declines() throws {
        let key = SigningKey.generate()
        let unusual: [JSONObject] = [
            TestLog.body("site.register", signer: "m", extra: [("name", .string("Société Minière"))]),
            TestLog.body("site.register", signer: "m", extra: [("name", .string("line\nbreak"))]),
            TestLog.body("site.register", signer: "m", extra: [("ratio", .number(0.5))]),
        ]
        for body in unusual {
            let envelope = try EventEnvelope.sign(body: body, with: key)
            #expect(StoredEnvelope(envelope.leafInput) == nil)
            #expect(try EventEnvelope.parse(envelope.leafInput).leafInput == envelope.leafInput)
        }
        let plain = try TestLog.event("trader", key: key)
        let spaced = Array(String(decoding: plain.leafInput, as: UTF8.self).replacingOccurrences(of: #","keyId""#, with: #", "keyId""#).utf8)
        #expect(StoredEnvelope(spaced) == nil)
        // Canonical, but without the nonce every event needs (the member renamed, still in key order).
        let missingNonce = Array(String(decoding: plain.leafInput, as: UTF8.self).replacingOccurrences(of: #""nonce":"#, with: #""noncf":"#).utf8)
        #expect(missingNonce.withUnsafeBufferPointer { CanonicalScanner.scanObject($0, from: 8) } != nil)
        #expect(StoredEnvelope(missingNonce) == nil)
    }

    @Test("whatever edited bytes it reads, the full parse reads the same way and finds them canonical")
    func soundUnderEdits() throws {
        var rng = SystemRandomNumberGenerator()
        var read = 0
        for envelope in try Self.envelopes() {
            for _ in 0..<400 {
                var bytes = envelope.leafInput
                randomEdit(&bytes, using: &rng)
                guard let stored = StoredEnvelope(bytes) else { continue }
                read += 1
                let text = String(decoding: bytes, as: UTF8.self)
                let parsed = try #require(try? Self.fullParse(bytes), "fast path read what the parser refuses: \(text)")
                #expect(parsed.leafInput == bytes, "fast path read a non-canonical envelope: \(text)")
                #expect(fields(stored, in: bytes) == fields(parsed), "\(text)")
            }
        }
        #expect(read > 0)
    }

    @Test("a submission in the log's form is read in place, with all that the full parse gives, or refused the same way")
    func submissionsReadInPlace() throws {
        var rng = SystemRandomNumberGenerator()
        for envelope in try Self.envelopes() {
            #expect(try Self.described(EventEnvelope.parse(envelope.leafInput)) == Self.described(envelope))
            #expect(EventEnvelope(canonical: envelope.leafInput) != nil)
            for _ in 0..<400 {
                var bytes = envelope.leafInput
                randomEdit(&bytes, using: &rng)
                let text = String(decoding: bytes, as: UTF8.self)
                switch (Result { () throws(LedgerError) in try EventEnvelope.parse(bytes) }, Result { () throws(LedgerError) in try Self.fullParse(bytes) }) {
                case (.success(let fast), .success(let full)): #expect(Self.described(fast) == Self.described(full), "\(text)")
                case (.failure(let a), .failure(let b)): #expect(a == b, "\(text)")
                case (let a, let b): Issue.record("the paths disagree on \(text): \(a) vs \(b)")
                }
            }
        }
    }

    @Test("a log database reads an event's type and signer from its stored envelope, in place or parsed")
    func summariesFromEntries() throws {
        let key = SigningKey.generate()
        let accented = try EventEnvelope.sign(body: TestLog.body("site.register", signer: "trader", extra: [("name", .string("Société"))]),
                                              with: key)
        for envelope in try Self.envelopes() + [accented] {
            #expect(DomainTables.summary(ofEnvelope: envelope.leafInput) == EventSummary(type: envelope.type, signer: envelope.signer))
        }
        #expect(DomainTables.summary(ofEnvelope: Array(#"{"body":{"type":"x"},"keyId":"k","signature":"s"}"#.utf8)) == nil)
        #expect(DomainTables.summary(ofEnvelope: Array("not json".utf8)) == nil)
    }

    @Test("the audit's check stage refuses stored bytes that are not canonical, on either path")
    func checkStageRefusesNonCanonical() async throws {
        let key = SigningKey.generate()
        let plain = try TestLog.event("trader", key: key)
        let accented = try EventEnvelope.sign(body: TestLog.body("site.register", signer: "trader", extra: [("name", .string("Société"))]),
                                              with: key)
        let keys = [key.publicKey.keyID: key.publicKey.bytes]
        for envelope in [plain, accented] {
            let text = String(decoding: envelope.leafInput, as: UTF8.self)
            let respaced = Array(text.replacingOccurrences(of: #""nonce":"#, with: #""nonce": "#).utf8)
            let entries = [envelope.leafInput, respaced].enumerated().map { i, bytes in
                LogEntry(index: UInt64(i), leafInput: bytes, leafHash: Merkle.leafHash(bytes), chainHash: [], loggedAtMillis: 0)
            }
            let checked = await Replay.check(entries, keys: keys, custodyRules: true)
            #expect(checked[0].event?.check == .valid && checked[0].event?.body != nil)
            #expect(checked[1].event == nil)
            #expect(checked[1].error == "stored bytes are not in canonical form")
        }
    }
}

