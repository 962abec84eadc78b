import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Testing

/// Closing a shipment without a change of custody: `custody.cancel`, `custody.reject` and `kp.return`, over the
/// demo chain. After the story, `BW-JW-t1-0001-A-2` (rough) is with `surat` (IN) and `BW-JW-t1-0001-B` (rough)
/// with `antwerp` (BE); `lab` is in IN too.
@Suite("Closing transfers and certificates")
struct ClosingRulesTests {
    static let sent = "BW-JW-t1-0001-A-2"

    func transfer(_ s: Story, to receiver: String = "lab") async throws -> Int64 {
        Int64(try await s.submit("surat", "custody.transfer", [("parcels", ids(Self.sent)), ("to", .string(s.id(receiver)))]).get().index)
    }

    func closing(_ t: Int64, _ reason: String = "consignee changed") -> [(String, JSONValue)] {
        [("transfer", .integer(t)), ("reason", .string(reason))]
    }

    /// Audits the closed ledger's database offline: the replay must accept every event and derive the same state.
    func audit(_ s: Story) async throws {
        let size = s.log.ledger.treeSize
        await s.log.ledger.close()
        let report = try await LogAuditor(source: DatabaseAuditSource(path: s.log.directory.databasePath),
                                          options: AuditOptions(logKey: s.log.ledger.signer.verifier)).run()
        #expect(report.treeSize == size)
    }

    @Test("custody.cancel: only the sender, only while pending; the parcels are active again in the sender's custody")
    func cancel() async throws {
        let s = try await Story.run()
        let t = try await transfer(s)
        try await s.refused("custody.sender", "lab", "custody.cancel", closing(t))
        try await s.refused("custody.sender", "retail", "custody.cancel", closing(t))
        try await s.refused("custody.no-transfer", "surat", "custody.cancel", closing(1))
        try await s.refused("schema", "surat", "custody.cancel", [("transfer", .integer(t))])
        try await s.refused("schema", "surat", "custody.cancel", closing(t, "  "))
        try await s.refused("schema.unknown-field", "surat", "custody.cancel", closing(t) + [("parcels", ids(Self.sent))])
        try await s.refused("time.order", "surat", "custody.cancel", closing(t), occurredAt: "2026-10-01T00:00:00Z")
        let cancelled = try await s.submit("surat", "custody.cancel", closing(t)).get()
        let p = try #require(try s.parcel(Self.sent))
        #expect(p.status == .active && p.custodian == s.id("surat") && p.pending == nil && p.lastIndex == cancelled.index)
        let record = try s.log.ledger.store.read { try $0.domain.transfer(at: UInt64(t)) }
        #expect(record?.cancelledAt == cancelled.index && record?.acceptedAt == nil && record?.rejectedAt == nil && record?.isPending == false)
        // Closed: neither side can act on it again.
        try await s.refused("custody.cancelled", "surat", "custody.cancel", closing(t))
        try await s.refused("custody.cancelled", "lab", "custody.accept", [("transfer", .integer(t))])
        try await s.refused("custody.cancelled", "lab", "custody.reject", closing(t))
        // The sender uses the parcel again: a new transfer, accepted, can no longer be cancelled or rejected.
        let again = try await transfer(s)
        _ = try await s.submit("lab", "custody.accept", [("transfer", .integer(again))]).get()
        #expect(try s.parcel(Self.sent)?.custodian == s.id("lab"))
        try await s.refused("custody.accepted", "surat", "custody.cancel", closing(again))
        try await s.refused("custody.accepted", "lab", "custody.reject", closing(again))
        let history = try s.log.ledger.store.read { try $0.domain.history(ofParcel: Self.sent) }.map(\.summary.type)
        #expect(history.suffix(4) == ["custody.transfer", "custody.cancel", "custody.transfer", "custody.accept"])
        try await audit(s)
    }

    @Test("custody.reject: only the receiver, only while pending; the parcels go back to the sender")
    func reject() async throws {
        let s = try await Story.run()
        let t = try await transfer(s)
        try await s.refused("custody.receiver", "surat", "custody.reject", closing(t, "changed my mind"))
        try await s.refused("custody.receiver", "retail", "custody.reject", closing(t))
        try await s.refused("custody.no-transfer", "lab", "custody.reject", closing(t + 100))
        let rejected = try await s.submit("lab", "custody.reject", closing(t, "seal broken on arrival")).get()
        let p = try #require(try s.parcel(Self.sent))
        #expect(p.status == .active && p.custodian == s.id("surat") && p.pending == nil && p.lastIndex == rejected.index)
        let record = try s.log.ledger.store.read { try $0.domain.transfer(at: UInt64(t)) }
        #expect(record?.rejectedAt == rejected.index && record?.cancelledAt == nil && record?.acceptedAt == nil)
        try await s.refused("custody.rejected", "lab", "custody.reject", closing(t))
        try await s.refused("custody.rejected", "lab", "custody.accept", [("transfer", .integer(t))])
        try await s.refused("custody.rejected", "surat", "custody.cancel", closing(t))
        // Back in the sender's hands and usable: surat splits it.
        _ = try await s.submit("surat", "parcel.split", [
            ("parcel", .string(Self.sent)), ("outputs", .array([lot("A-2-X", 700, 7), lot("A-2-Y", 74_000, 2_491)])),
        ]).get()
        #expect(try s.parcel(Self.sent)?.status == .consumed)
        try await audit(s)
    }

    @Test("kp.return: by the exporting authority, of an expired certificate never imported; it closes the certificate")
    func kpReturn() async throws {
        let s = try await Story.run()
        let parcel = "BW-JW-t1-0001-B"
        func export(_ number: String, expiresOn: String) -> [(String, JSONValue)] {
            [("certificate", .string(number)), ("exportingCountry", .string("BE")), ("importingCountry", .string("IN")),
             ("importer", .string(s.id("surat"))), ("parcels", ids(parcel)), ("carats", .integer(50_000)),
             ("valueCommitment", commitment), ("issuedOn", .string("2026-10-01")), ("expiresOn", .string(expiresOn))]
        }
        func back(_ number: String, on day: String) -> [(String, JSONValue)] {
            [("certificate", .string(number)), ("returnedOn", .string(day)), ("reason", .string("held at customs past expiry"))]
        }
        func receipt(_ number: String) -> [(String, JSONValue)] {
            [("certificate", .string(number)), ("carats", .integer(50_000)), ("parcels", ids(parcel)), ("receivedOn", .string("2026-11-27"))]
        }
        // Exported, validated, expired on 2026-11-01 while in transit.
        _ = try await s.submit("antwerp", "kp.export", export("BE-2026-R1", expiresOn: "2026-11-01")).get()
        _ = try await s.submit("be-kp", "kp.validate", [("certificate", .string("BE-2026-R1"))]).get()
        try await s.refused("kp.authority-country", "in-kp", "kp.return", back("BE-2026-R1", on: "2026-11-27"))
        try await s.refused("role", "antwerp", "kp.return", back("BE-2026-R1", on: "2026-11-27"))
        try await s.refused("kp.certificate-unknown", "be-kp", "kp.return", back("BE-2026-NONE", on: "2026-11-27"))
        try await s.refused("kp.not-expired", "be-kp", "kp.return", back("BE-2026-R1", on: "2026-11-01"))
        // The return date cannot be later than the event's own day (2026-11-28): no faking an expiry.
        try await s.refused("kp.return-date", "be-kp", "kp.return", back("BE-2026-R1", on: "2026-12-15"))
        try await s.refused("schema", "be-kp", "kp.return", [("certificate", .string("BE-2026-R1")), ("returnedOn", .string("2026-11-27"))])
        let returned = try await s.submit("be-kp", "kp.return", back("BE-2026-R1", on: "2026-11-27")).get()
        let p = try #require(try s.parcel(parcel))
        #expect(p.status == .active && p.custodian == s.id("antwerp") && p.pending == nil && p.lastIndex == returned.index)
        let cert = try s.log.ledger.store.read { try $0.domain.certificate("BE-2026-R1") }
        #expect(cert?.returnedAt == returned.index && cert?.importedAt == nil)
        // Closed: no import, validation or second return can follow.
        try await s.refused("kp.returned", "in-kp", "kp.import", receipt("BE-2026-R1"))
        try await s.refused("kp.returned", "be-kp", "kp.validate", [("certificate", .string("BE-2026-R1"))])
        try await s.refused("kp.returned", "be-kp", "kp.return", back("BE-2026-R1", on: "2026-11-27"))
        // A certificate never validated may be returned too.
        _ = try await s.submit("antwerp", "kp.export", export("BE-2026-R2", expiresOn: "2026-11-02")).get()
        _ = try await s.submit("be-kp", "kp.return", back("BE-2026-R2", on: "2026-11-28")).get()
        #expect(try s.parcel(parcel)?.custodian == s.id("antwerp"))
        // Shipped again under a valid certificate and imported: that one cannot be returned.
        _ = try await s.submit("antwerp", "kp.export", export("BE-2026-R3", expiresOn: "2027-01-31")).get()
        try await s.refused("kp.not-expired", "be-kp", "kp.return", back("BE-2026-R3", on: "2026-11-28"))
        _ = try await s.submit("be-kp", "kp.validate", [("certificate", .string("BE-2026-R3"))]).get()
        _ = try await s.submit("in-kp", "kp.import", receipt("BE-2026-R3")).get()
        #expect(try s.parcel(parcel)?.custodian == s.id("surat"))
        try await s.refused("kp.imported", "be-kp", "kp.return", back("BE-2026-R3", on: "2026-11-28"))
        let history = try s.log.ledger.store.read { try $0.domain.history(ofParcel: parcel) }.map(\.summary.type)
        #expect(history.suffix(8) == ["kp.export", "kp.validate", "kp.return", "kp.export", "kp.return", "kp.export", "kp.validate", "kp.import"])
        try await audit(s)
    }

    @Test("a schema version 1 database is audited read-only as it is, and migrated to version 2 when opened for writing")
    func versionOneDatabase() async throws {
        let s = try await Story.run()
        let transferIndex = try #require(s.steps.first { $0.type == "custody.transfer" }).receipt.index
        let parcel = "BW-JW-t1-0001-A"
        let history = try s.log.ledger.store.read { try $0.domain.history(ofParcel: parcel) }.map(\.index)
        #expect(history.count >= 5)
        await s.log.ledger.close()
        let path = copyDatabase(s.log.directory)
        // Back to version 1: the columns version 2 added are dropped, histories are rows of parcel_events again,
        // and the table of event summaries version 4 dropped is back.
        let raw = RawDatabase(path: path)
        raw.exec("""
            ALTER TABLE certificates DROP COLUMN returned_at; ALTER TABLE transfers DROP COLUMN cancelled_at;
            ALTER TABLE transfers DROP COLUMN rejected_at; DROP TABLE event_keys; \(parcelHistoryToVersion2)
            CREATE TABLE event_summaries (idx INTEGER PRIMARY KEY, type TEXT NOT NULL, signer TEXT NOT NULL);
            PRAGMA user_version = 1;
            """)
        raw.close()
        let verifier = s.log.ledger.signer.verifier
        let before = try await LogAuditor(source: DatabaseAuditSource(path: path), options: AuditOptions(logKey: verifier)).run()
        #expect(before.treeSize == 24)
        // In such a file the audit still checks every history row against the replay.
        let tampered = TestLog.temporaryPath("v1") + "/custody.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: tampered)
        let edit = RawDatabase(path: tampered)
        edit.exec("DELETE FROM parcel_events WHERE parcel = '\(parcel)' AND idx = \(history[2])")
        edit.close()
        let failure = await #expect(throws: AuditFailure.self) {
            _ = try await LogAuditor(source: DatabaseAuditSource(path: tampered), options: AuditOptions(logKey: verifier)).run()
        }
        #expect(failure?.reason.contains("parcel_events table differs") == true)
        // Opened for writing, it gets the new columns (NULL in every row), and still audits.
        let store = try LogStore(path: path)
        let t = try store.read { try $0.domain.transfer(at: transferIndex) }
        #expect(t?.acceptedAt != nil && t?.cancelledAt == nil && t?.rejectedAt == nil)
        #expect(try store.read { try $0.domain.certificate("BW-2026-t101") }?.returnedAt == nil)
        #expect(try store.read { try $0.domain.history(ofParcel: parcel) }.map(\.index) == history)
        let after = try await LogAuditor(source: DatabaseAuditSource(path: path), options: AuditOptions(logKey: verifier)).run()
        #expect(after.treeSize == 24)
    }

    @Test("a version 3 database loses its table of event summaries when opened for writing; types and signers come from the entries")
    func versionThreeDatabase() async throws {
        let s = try await Story.run()
        let parcel = "BW-JW-t1-0001-A"
        let history = try s.log.ledger.store.read { try $0.domain.history(ofParcel: parcel) }
        #expect(history.count >= 5)
        for (index, summary) in history {
            let envelope = try EventEnvelope.parse(try s.log.ledger.entry(at: index).leafInput)
            #expect(summary == EventSummary(type: envelope.type, signer: envelope.signer))
        }
        await s.log.ledger.close()
        let raw = RawDatabase(path: s.log.directory.databasePath)
        raw.exec("""
            CREATE TABLE event_summaries (idx INTEGER PRIMARY KEY, type TEXT NOT NULL, signer TEXT NOT NULL);
            INSERT INTO event_summaries VALUES (0, 'genesis', 'registrar'); PRAGMA user_version = 3;
            """)
        raw.close()
        let reopened = try await TestLog.open(path: s.log.directory.path)
        #expect(try reopened.ledger.store.read { try $0.domain.history(ofParcel: parcel) }.map(\.summary) == history.map(\.summary))
        await reopened.ledger.close()
        let check = RawDatabase(path: reopened.directory.databasePath)
        #expect(String(decoding: check.blob("SELECT CAST(count(*) AS TEXT) FROM sqlite_master WHERE name = 'event_summaries'"),
                       as: UTF8.self) == "0")
        #expect(String(decoding: check.blob("SELECT CAST(user_version AS TEXT) FROM pragma_user_version"), as: UTF8.self) == "4")
        check.close()
        let report = try await LogAuditor(source: DatabaseAuditSource(path: copyDatabase(reopened.directory)),
                                          options: AuditOptions(logKey: reopened.ledger.signer.verifier)).run()
        #expect(report.treeSize == reopened.ledger.treeSize)
    }

    @Test("a version 2 database gets its event-key index when opened for writing, and repeats of earlier events still get their original index")
    func versionTwoDatabase() async throws {
        let s = try await Story.run()
        let size = s.log.ledger.treeSize
        await s.log.ledger.close()
        let raw = RawDatabase(path: s.log.directory.databasePath)
        raw.exec("DROP TABLE event_keys; \(parcelHistoryToVersion2) PRAGMA user_version = 2;")
        raw.close()
        let reopened = try await TestLog.open(path: s.log.directory.path)
        #expect(try reopened.ledger.store.read { try $0.eventKeyCount() } == size)
        for index in [UInt64(0), 5, size - 1] {
            let old = try EventEnvelope.parse(try reopened.ledger.entry(at: index).leafInput)
            let again = try await reopened.ledger.submit(old).get()
            #expect(again.index == index && again.duplicate)
        }
        #expect(reopened.ledger.treeSize == size)
        await reopened.ledger.close()
        let path = copyDatabase(reopened.directory)
        let report = try await LogAuditor(source: DatabaseAuditSource(path: path),
                                          options: AuditOptions(logKey: reopened.ledger.signer.verifier)).run()
        #expect(report.treeSize == size)
    }
}
