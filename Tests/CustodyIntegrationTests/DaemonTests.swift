import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation
import Testing

/// Signs a body for `signer` with `key`, filling the common fields.
func envelope(_ type: String, signer: String, key: SigningKey, _ extra: [(String, JSONValue)] = []) throws -> EventEnvelope {
    try EventEnvelope.sign(body: JSONObject([
        ("type", .string(type)), ("schemaVersion", .integer(1)), ("signer", .string(signer)),
        ("occurredAt", .string("2026-11-01T10:00:00Z")), ("nonce", .string(UUID().uuidString)),
    ] + extra), with: key)
}

/// A `participant.register` event signed by the registrar.
func registration(_ participant: String, key: SigningKey, registrar: KeyFile, roles: [String] = ["miner"]) throws -> EventEnvelope {
    try envelope("participant.register", signer: registrar.participant, key: registrar.signingKey(), [
        ("participant", .string(participant)), ("legalName", .string("\(participant) Ltd")), ("country", .string("BW")),
        ("roles", .array(roles.map { .string($0) })), ("publicKeys", .array([.string(key.publicKey.base64)])),
    ])
}

/// A valid event with no prerequisites: a miner registers a new site it operates.
func siteEvent(_ miner: String, key: SigningKey, site: String = UUID().uuidString, _ extra: [(String, JSONValue)] = []) throws -> EventEnvelope {
    try envelope("site.register", signer: miner, key: key, [
        ("site", .string(site)), ("name", .string("Jwaneng")), ("country", .string("BW")), ("region", .string("Southern")),
        ("latE6", .integer(-24_521_000)), ("lonE6", .integer(24_697_000)), ("kind", .string("industrial")),
        ("operator", .string(miner)),
    ] + extra)
}

/// Registers a fresh participant over HTTP; returns its key.
func register(_ participant: String, on daemon: LiveDaemon, roles: [String] = ["miner"]) async throws -> SigningKey {
    let key = SigningKey.generate()
    let event = try registration(participant, key: key, registrar: daemon.registrarKey, roles: roles)
    _ = try await daemon.client.submit(envelope: Data(event.leafInput))
    return key
}

func checkReceipt(_ receipt: Receipt, _ verifier: NoteVerifier) throws {
    let checkpoint = try Checkpoint.open(receipt.checkpoint, verifier: verifier)
    try Merkle.verifyInclusion(leafHash: Base64.decode(receipt.leafHash)!, index: receipt.index, size: checkpoint.size,
                               proof: receipt.inclusionProof.path!, root: checkpoint.root)
}

@Suite("custodyd over HTTP", .serialized)
struct DaemonTests {
    @Test("submit, receipt, proofs, restart, verify again, audit over HTTP")
    func endToEnd() async throws {
        var daemon = try await LiveDaemon.start()
        let verifier = try NoteVerifier(encoded: String(contentsOfFile: daemon.directory.logVerifierKeyPath, encoding: .utf8))
        let key = try await register("debswana", on: daemon)
        let event = try siteEvent("debswana", key: key, site: "jwaneng")
        let receipt = try await daemon.client.submit(envelope: Data(event.leafInput))
        #expect(receipt.index == 2 && !receipt.duplicate)
        #expect(receipt.eventId == event.eventIDHex)
        try checkReceipt(receipt, verifier)

        // The served entry is the exact stored bytes; the served proof is the receipt's.
        let entry = try await daemon.client.entry(2)
        #expect(entry.leafInput == event.leafInput)
        #expect(Base64.encode(Merkle.leafHash(entry.leafInput)) == receipt.leafHash)
        let proof = try await daemon.client.inclusionProof(index: 2, size: 3)
        #expect(proof == receipt.inclusionProof)
        let note = try await daemon.client.checkpoint()
        #expect(try Checkpoint.open(note, verifier: verifier).size == 3)

        // Restart on the same data directory: the log and its key carry on.
        try await daemon.stop()
        daemon = try await LiveDaemon.start(dataDir: daemon.dataDir)
        try checkReceipt(receipt, verifier)
        let later = try await daemon.client.submit(envelope: Data(try siteEvent("debswana", key: key).leafInput))
        #expect(later.index == 3)
        try checkReceipt(later, verifier)
        let old = try Checkpoint.open(receipt.checkpoint, verifier: verifier)
        let new = try Checkpoint.open(later.checkpoint, verifier: verifier)
        let consistency = try await daemon.client.consistencyProof(first: old.size, second: new.size)
        try Merkle.verifyConsistency(first: old.size, second: new.size, firstRoot: old.root, secondRoot: new.root,
                                     proof: consistency.path!)

        let report = try await LogAuditor(source: RemoteAuditSource(client: daemon.client),
                                          options: AuditOptions(logKey: verifier, since: receipt.checkpoint)).run()
        #expect(report.treeSize == 4 && report.consistentWith == 3)
        try await daemon.stop()
    }

    @Test("a resubmitted event returns its original receipt, not a second entry")
    func duplicate() async throws {
        let daemon = try await LiveDaemon.start()
        let key = try await register("miner", on: daemon)
        let event = Data(try siteEvent("miner", key: key).leafInput)
        let first = try await daemon.client.submit(envelope: event)
        let second = try await daemon.client.submit(envelope: event)
        #expect(second.duplicate && second.index == first.index)
        #expect(try await daemon.client.health().treeSize == 3)
        try await daemon.stop()
    }

    @Test("a batch is answered item by item, in order")
    func batch() async throws {
        let daemon = try await LiveDaemon.start()
        let key = try await register("trader", on: daemon)
        let good = try (0..<3).map { _ in String(decoding: try siteEvent("trader", key: key).leafInput, as: UTF8.self) }
        let stranger = String(decoding: try siteEvent("trader", key: SigningKey.generate()).leafInput, as: UTF8.self)
        let body = "[\(good[0]),\(stranger),\(good[1]),{\"body\":1},\(good[2])]"
        let result = try await daemon.client.submit(batch: Data(body.utf8))
        #expect(result.results.map(\.status) == ["accepted", "rejected", "accepted", "rejected", "accepted"])
        #expect(result.results[1].problem?.slug == "unknown-key")
        #expect(result.results[1].problem?.item == 1)
        #expect(result.results[3].problem?.slug == "invalid-envelope")
        #expect(result.results.compactMap(\.receipt?.index) == [2, 3, 4])
        try await daemon.stop()
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        let name: String
        let body: @Sendable (SigningKey) throws -> Data
        let status: Int
        let slug: String
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "malformed JSON", body: { _ in Data(#"{"body": {"#.utf8) }, status: 400, slug: "invalid-json"),
        BadInput(name: "duplicate keys", body: { _ in Data(#"{"body":{},"body":{}}"#.utf8) }, status: 400, slug: "invalid-json"),
        BadInput(name: "invalid UTF-8", body: { _ in Data([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) }, status: 400, slug: "invalid-json"),
        BadInput(name: "integer beyond 2^53-1", body: { key in
            Data(try signedText(key, #""carats":9007199254740993"#).utf8)
        }, status: 400, slug: "number-out-of-range"),
        BadInput(name: "non-finite number", body: { key in Data(try signedText(key, #""carats":1e400"#).utf8) },
                 status: 400, slug: "number-out-of-range"),
        BadInput(name: "not an envelope", body: { _ in Data("[]".utf8) }, status: 400, slug: "invalid-envelope"),
        BadInput(name: "extra envelope member", body: { key in
            var text = try signedText(key, #""note":"x""#)
            text.removeLast()
            return Data((text + #","extra":1}"#).utf8)
        }, status: 400, slug: "invalid-envelope"),
        BadInput(name: "missing common field", body: { key in
            let body = JSONObject([("type", .string("site.register")), ("signer", .string("miner"))])
            let canonical = CanonicalJSON.encode(.object(body))
            let signature = Base64.encode(key.signature(for: canonical))
            return Data(#"{"body":\#(String(decoding: canonical, as: UTF8.self)),"keyId":"\#(key.publicKey.keyID)","signature":"\#(signature)"}"#.utf8)
        }, status: 400, slug: "invalid-event"),
        BadInput(name: "signature over other bytes", body: { key in
            Data(try signedText(key, #""note":"a""#).replacingOccurrences(of: #""note":"a""#, with: #""note":"b""#).utf8)
        }, status: 400, slug: "bad-signature"),
        BadInput(name: "unknown key", body: { _ in Data(try signedText(SigningKey.generate(), #""note":"x""#).utf8) },
                 status: 403, slug: "unknown-key"),
        BadInput(name: "body over the limit", body: { _ in Data(repeating: 0x20, count: 2 << 20) }, status: 413,
                 slug: "payload-too-large"),
    ]

    /// An envelope from `miner` with one extra member spliced in as text (so it can hold what JSON values can't).
    static func signedText(_ key: SigningKey, _ member: String) throws -> String {
        let event = try siteEvent("miner", key: key)
        return String(decoding: event.leafInput, as: UTF8.self).replacingOccurrences(of: #"{"body":{"#, with: #"{"body":{\#(member),"#)
    }

    @Test("bad input is refused with a problem naming what is wrong, and nothing is stored")
    func badInput() async throws {
        let daemon = try await LiveDaemon.start()
        let key = try await register("miner", on: daemon)
        let url = daemon.baseURL.appendingPathComponent("v1/events")
        for bad in Self.badInputs {
            let response = try await rawRequest(url, body: try bad.body(key))
            #expect(response.status == bad.status, "\(bad.name)")
            #expect(response.contentType == "application/problem+json", "\(bad.name)")
            #expect(response.problem?.slug == bad.slug, "\(bad.name): \(String(decoding: response.body, as: UTF8.self))")
            #expect(response.problem?.detail.isEmpty == false)
        }
        #expect(try await daemon.client.health().treeSize == 2)
        try await daemon.stop()
    }

    @Test("query parameters are checked and unknown routes answer with problems")
    func parameters() async throws {
        let daemon = try await LiveDaemon.start()
        let base = daemon.baseURL
        for (path, status) in [
            ("v1/entries?start=0&limit=0", 400), ("v1/entries?limit=1001", 400), ("v1/entries/99", 404),
            ("v1/entries/x", 400), ("v1/proofs/inclusion?index=5&size=1", 400), ("v1/proofs/inclusion", 400),
            ("v1/proofs/consistency?from=0&to=1", 400), ("v1/proofs/consistency?from=1&to=9", 400), ("nope", 404),
        ] {
            let response = try await rawRequest(URL(string: base.absoluteString + "/" + path)!, method: "GET")
            #expect(response.status == status, "\(path)")
            #expect(response.problem != nil, "\(path)")
        }
        let page = try await daemon.client.entries(start: 0, limit: 10)
        #expect(page.count == 1)
        let spec = try await rawRequest(base.appendingPathComponent("openapi.json"), method: "GET")
        let served = try JSONSerialization.jsonObject(with: spec.body) as? [String: Any]
        #expect(served?["openapi"] as? String == "3.1.0")
        // The served document is the one in Schemas/, byte for byte.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        #expect(spec.body == (try Data(contentsOf: repository.appendingPathComponent("Schemas/openapi.json"))))
        try await daemon.stop()
    }
}
