import CustodyCrypto
import CustodyDomain
@testable import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging
import Testing

/// The append pipeline's fast paths: receipts built from a batch's own tree off the sequencer thread,
/// repeats found by the event-id index, the in-memory domain cache, one-pass request decoding, and the
/// hand-written response JSON.
@Suite("Append pipeline")
struct PipelineTests {
    @Test("receipts of batches of every shape verify against their checkpoints; repeats in and across batches too")
    func batchReceipts() async throws {
        let log = try await TestLog.open()
        var keys: [(String, SigningKey)] = []
        for i in 0..<4 { keys.append(("m\(i)", try await log.register("m\(i)"))) }
        var n = 0
        var earlier: [EventEnvelope] = []
        for size in [1, 2, 3, 5, 8, 13, 1, 31, 64, 7, 100] {
            var batch: [EventEnvelope] = []
            for _ in 0..<size {
                let (id, key) = keys[n % keys.count]
                batch.append(try TestLog.event(id, key: key, n))
                n += 1
            }
            // A repeat inside the batch and one of an earlier batch ride along.
            batch.append(batch[0])
            if let old = earlier.last { batch.append(old) }
            let results = await log.ledger.submit(batch)
            for (i, result) in results.enumerated() {
                let receipt = try result.get()
                try verify(receipt, log.ledger)
                #expect(receipt.duplicate == (i >= size))
                #expect(receipt.eventId == batch[i].eventIDHex)
                #expect(receipt.leafHash == Base64.encode(try log.ledger.entry(at: receipt.index).leafHash))
                #expect(receipt.chainHash == Base64.encode(try log.ledger.entry(at: receipt.index).chainHash))
            }
            #expect(try results[size].get().index == results[0].get().index)
            earlier += batch.prefix(size)
        }
        #expect(log.ledger.treeSize == 1 + 4 + UInt64(n))
        await log.ledger.close()
        let report = try await LogAuditor(source: DatabaseAuditSource(path: log.directory.databasePath),
                                          options: AuditOptions(logKey: log.ledger.signer.verifier, chunkSize: 16)).run()
        #expect(report.treeSize == 1 + 4 + UInt64(n))
    }

    @Test("a repeat of a logged event gets its receipt even when the rules would now refuse it")
    func repeatBeatsRules() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("m")
        let event = try TestLog.event("m", key: key)
        let first = try await log.ledger.submit(event).get()
        // The same site registered again would break `site.exists`: the repeat is recognised first.
        let again = try await log.ledger.submit(event).get()
        #expect(again.duplicate && again.index == first.index)
        try verify(again, log.ledger)
        // A different event breaking the same rule is refused.
        let other = try EventEnvelope.sign(body: TestLog.body("site.register", signer: "m", extra: [
            ("site", .string("S-m-0")), ("name", .string("Pit")), ("country", .string("BW")), ("region", .string("South")),
            ("latE6", .integer(0)), ("lonE6", .integer(0)), ("kind", .string("industrial")), ("operator", .string("m")),
        ]), with: key)
        guard case .failure(let error) = await log.ledger.submit(other) else {
            Issue.record("a second site with the same id was accepted")
            return
        }
        #expect(error.rule == "site.exists")
        await log.ledger.close()
    }

    @Test("a request body is decoded and submitted in one pass, keeping the batch's order and refusals")
    func bodies() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("m")
        let good = try TestLog.event("m", key: key, 1)
        let single = try await log.ledger.submit(body: good.leafInput)
        guard case .single(.success(let receipt)) = single else {
            Issue.record("single envelope: \(single)")
            return
        }
        try verify(receipt, log.ledger)
        let second = try TestLog.event("m", key: key, 2)
        let body = Array("[".utf8) + second.leafInput + Array(",{\"body\":{}}, ".utf8) + good.leafInput + Array("]".utf8)
        guard case .batch(let results) = try await log.ledger.submit(body: body), results.count == 3 else {
            Issue.record("batch of three")
            return
        }
        #expect(try results[0].get().duplicate == false)
        #expect((try? results[1].get()) == nil)
        #expect(try results[2].get().index == receipt.index)
        await #expect(throws: LedgerError.self) { _ = try await log.ledger.submit(body: Array("[]".utf8)) }
        await #expect(throws: LedgerError.self) { _ = try await log.ledger.submit(body: Array("[{".utf8)) }
        guard case .single(.failure) = try await log.ledger.submit(body: Array("{\"body\":1}".utf8)) else {
            Issue.record("a malformed single envelope must be refused")
            return
        }
        await log.ledger.close()
    }

    @Test("receipt, batch and proof JSON are byte for byte what JSONEncoder writes")
    func responseJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let receipt = Receipt(
            index: 12_345, eventId: String(repeating: "ab", count: 32), leafHash: "q83vEjRWeJA/+A==",
            chainHash: "AAECAwQ=", loggedAt: "2026-11-29T03:41:04.311Z", duplicate: false,
            checkpoint: "o/rigin \"quoted\" \\ back\n12346\nroot=\n\n— o/rigin tab\there \u{01}\n",
            inclusionProof: InclusionProof(leafIndex: 12_345, treeSize: 12_346, path: [[1, 2, 3], [255, 254], Array(repeating: 7, count: 32)]))
        #expect(receipt.jsonBytes() == Array(try encoder.encode(receipt)))
        var repeated = receipt
        repeated.duplicate = true
        repeated.inclusionProof = InclusionProof(leafIndex: 0, treeSize: 1, path: [])
        #expect(repeated.jsonBytes() == Array(try encoder.encode(repeated)))
        let batch = BatchResult(results: [
            BatchItemResult(.success(receipt), item: 0),
            BatchItemResult(.failure(LedgerError(.badSignature, "the signature \"x\" does not verify", pointer: "/signature")), item: 1),
            BatchItemResult(.success(repeated), item: 2),
        ])
        #expect(batch.jsonBytes() == Array(try encoder.encode(batch)))
        #expect(try JSONDecoder().decode(Receipt.self, from: Data(receipt.jsonBytes())) == receipt)
        for proof in [receipt.inclusionProof, repeated.inclusionProof] {
            #expect(proof.jsonBytes() == Array(try encoder.encode(proof)))
        }
        for proof in [ConsistencyProof(first: 3, second: 70_000, path: [[1], [2, 3, 4], Array(repeating: 9, count: 32)]),
                      ConsistencyProof(first: 5, second: 5, path: [])] {
            #expect(proof.jsonBytes() == Array(try encoder.encode(proof)))
        }
    }

    @Test("a multi-row insert that fails part-way (rows written by OR FAIL before the bad one) leaves nothing of its transaction")
    func failedMultiRowInsertRollsBack() throws {
        let store = try LogStore(path: TestLog.temporaryPath("orfail") + "/custody.sqlite")
        func entry(_ i: UInt64) -> (entry: LogEntry, eventID: [UInt8]) {
            let bytes = Array("event \(i)".utf8)
            return (LogEntry(index: i, leafInput: bytes, leafHash: SHA256.hash(bytes), chainHash: SHA256.hash(bytes + [1]),
                             loggedAtMillis: 1), SHA256.hash(bytes + [2]))
        }
        try store.write { try $0.insert(entries: [entry(50)]) }
        // Rows 0...49 go in before index 50 collides: the first statement of 32 rows succeeds, the second fails
        // on its 19th row.
        #expect(throws: StoreError.self) {
            try store.write { try $0.insert(entries: (0...60).map(entry)) }
        }
        try store.read { txn throws in
            #expect(try txn.entryCount() == 1)
            #expect(try txn.entries(start: 0, limit: 100) == [entry(50).entry])
        }
        // The connection is usable after the rollback.
        try store.write { try $0.insert(entries: (0..<50).map(entry)) }
        try store.read { txn throws in #expect(try txn.entryCount() == 51) }
    }

    @Test("the domain cache forgets what a rolled-back transaction wrote, and keeps what a committed one did")
    func cacheRollback() throws {
        let path = TestLog.temporaryPath("cache") + "/custody.sqlite"
        let store = try LogStore(path: path)
        let cache = DomainCache(capacity: 4)
        let p = Participant(id: "p1", legalName: "P One", country: "BW", roles: [.miner], registeredAt: 1)
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try store.write { txn in
                cache.begin(txn.domain)
                try cache.apply([.participant(p)])
                #expect(try cache.participant("p1") == p)
                throw Abort()
            }
        }
        cache.rollback()
        try store.write { txn in
            cache.begin(txn.domain)
            #expect(try cache.participant("p1") == nil)
            try cache.apply([.participant(p)])
            for i in 0..<10 {
                try cache.apply([.parcel(Parcel(id: "x\(i)", form: .rough, carats: 1, stones: 1, custodian: "p1", status: .active,
                                               createdAt: 1, lastIndex: 1, lastOccurredAt: 0))])
            }
            try cache.flush()
        }
        cache.commit()
        try store.write { txn throws in
            cache.begin(txn.domain)
            #expect(try cache.participant("p1") == p)
            // Beyond its capacity the cache reads through to the tables.
            for i in 0..<10 { #expect(try cache.parcel("x\(i)")?.custodian == "p1") }
            #expect(try txn.domain.participant("p1") == p)
        }
        cache.commit()
        // A rolled-back overwrite puts the committed value back, in memory as in the tables.
        var renamed = p
        renamed.legalName = "P One Renamed"
        #expect(throws: Abort.self) {
            try store.write { txn in
                cache.begin(txn.domain)
                try cache.apply([.participant(renamed)])
                #expect(try cache.participant("p1") == renamed)
                throw Abort()
            }
        }
        cache.rollback()
        try store.write { txn throws in
            cache.begin(txn.domain)
            #expect(try cache.participant("p1") == p)
            #expect(try txn.domain.participant("p1") == p)
        }
        cache.commit()
    }

    @Test("a new cache over existing tables (a restart) loads its id filter from them: every stored id is found, new ones are not")
    func cacheFilterAfterRestart() throws {
        let path = TestLog.temporaryPath("filter") + "/custody.sqlite"
        let store = try LogStore(path: path)
        let writer = DomainCache(capacity: 16)
        func parcel(_ i: Int) -> Parcel {
            Parcel(id: "BW-SITE/2026/\(i)", form: .rough, carats: 100, stones: 1, custodian: "p1", status: .active,
                   createdAt: 1, lastIndex: 1, lastOccurredAt: 0)
        }
        try store.write { txn in
            writer.begin(txn.domain)
            for i in 0..<5_000 { try writer.apply([.parcel(parcel(i))]) }
            try writer.apply([.gradingReport(number: "GIA-1", stone: "s1", index: 7)])
            try writer.flush()
        }
        writer.commit()
        let restarted = DomainCache(capacity: 16)
        try store.write { txn in
            restarted.begin(txn.domain)
            for i in 0..<5_000 { #expect(try restarted.parcel("BW-SITE/2026/\(i)")?.carats == 100) }
            #expect(try restarted.gradingReport("GIA-1") == 7)
            for i in 5_000..<10_000 { #expect(try restarted.parcel("BW-SITE/2026/\(i)") == nil) }
            #expect(try restarted.gradingReport("GIA-2") == nil)
            // Written through the restarted cache, a new id is found at once.
            try restarted.apply([.parcel(parcel(20_000))])
            #expect(try restarted.parcel("BW-SITE/2026/20000") != nil)
            try restarted.flush()
        }
        restarted.commit()
    }

    @Test("parcels written in a transaction are found after it, even when the id filter was first loaded inside it and the cache then dropped them")
    func deferredParcelsAndTheFilter() throws {
        let path = TestLog.temporaryPath("deferred") + "/custody.sqlite"
        let store = try LogStore(path: path)
        let cache = DomainCache(capacity: 4)
        func parcel(_ i: Int, lastIndex: UInt64 = 1) -> Parcel {
            Parcel(id: "BW-D-\(i)", form: .rough, carats: 100, stones: 1, custodian: "p1", status: .active,
                   createdAt: 1, lastIndex: lastIndex, lastOccurredAt: 0)
        }
        try store.write { txn in
            cache.begin(txn.domain)
            for i in 0..<10 { try cache.apply([.parcel(parcel(i)), .parcelEvent(parcel: "BW-D-\(i)", index: 1)]) }
            try cache.apply([.eventSummary(index: 1, EventSummary(type: "parcel.split", signer: "p1"))])
            // Loads the filter while the ten rows are still held back.
            #expect(try cache.parcel("BW-D-absent") == nil)
            // A later event in the same transaction touches one again: one row, both events in its history.
            try cache.apply([.parcel(parcel(3, lastIndex: 2)), .parcelEvent(parcel: "BW-D-3", index: 2),
                             .eventSummary(index: 2, EventSummary(type: "attestation", signer: "p1"))])
            #expect(try txn.domain.parcel("BW-D-3") == nil)
            try cache.flush()
            #expect(try txn.domain.parcel("BW-D-3")?.lastIndex == 2)
        }
        cache.commit()  // over capacity: the cache empties its parcels
        try store.write { txn in
            cache.begin(txn.domain)
            for i in 0..<10 { #expect(try cache.parcel("BW-D-\(i)")?.carats == 100) }
            #expect(try txn.domain.historyIndexes(ofParcel: "BW-D-3") == [1, 2])
            // Only events of a transaction add to a stored parcel's history.
            try cache.apply([.parcelEvent(parcel: "BW-D-4", index: 5), .eventSummary(index: 5, EventSummary(type: "attestation", signer: "p1"))])
            try cache.flush()
            #expect(try txn.domain.historyIndexes(ofParcel: "BW-D-4") == [1, 5])
        }
        cache.commit()
    }
}
