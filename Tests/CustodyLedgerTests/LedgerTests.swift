import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging
import Testing

/// Checks a receipt the way a participant would: the checkpoint's signature and the inclusion proof.
func verify(_ receipt: Receipt, _ ledger: Ledger) throws {
    let checkpoint = try Checkpoint.open(receipt.checkpoint, verifier: ledger.signer.verifier)
    #expect(receipt.inclusionProof.treeSize == checkpoint.size)
    try Merkle.verifyInclusion(leafHash: Base64.decode(receipt.leafHash)!, index: receipt.index,
                               size: checkpoint.size, proof: receipt.inclusionProof.path!, root: checkpoint.root)
}

@Suite("Ledger appends")
struct LedgerTests {
    @Test("a new data directory holds a signed genesis entry naming the registrar and the log key")
    func genesis() async throws {
        let log = try await TestLog.open()
        #expect(log.ledger.treeSize == 1)
        let entry = try log.ledger.entry(at: 0)
        let genesis = try Genesis(try EventEnvelope.parse(entry.leafInput))
        #expect(genesis.registrarKey == log.registrar.publicKey)
        #expect(genesis.logKey == log.ledger.signer.verifier.encoded)
        #expect(genesis.origin == "test.example/log")
        let attrs = try FileManager.default.attributesOfItem(atPath: log.directory.logKeyPath)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let vkey = try String(contentsOfFile: log.directory.logVerifierKeyPath, encoding: .utf8)
        #expect(vkey.trimmingCharacters(in: .newlines) == log.ledger.signer.verifier.encoded)
        await log.ledger.close()
    }

    @Test("registered participants append; receipts carry a verifiable proof; entries chain")
    func append() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("debswana")
        var receipts: [Receipt] = []
        for n in 0..<5 {
            receipts.append(try await log.ledger.submit(try TestLog.event("debswana", key: key, n)).get())
        }
        #expect(receipts.map(\.index) == [2, 3, 4, 5, 6])
        for r in receipts { try verify(r, log.ledger) }
        let entries = try log.ledger.entries(start: 0, limit: 100)
        #expect(entries.count == 7)
        var chain = HashChain.start
        for e in entries {
            #expect(e.leafHash == Merkle.leafHash(e.leafInput))
            chain = HashChain.next(previous: chain, leafHash: e.leafHash)
            #expect(e.chainHash == chain)
        }
        await log.ledger.close()
    }

    @Test("concurrent submissions are group-committed with one checkpoint per batch, all acknowledged")
    func concurrent() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("trader")
        let events = try (0..<400).map { try TestLog.event("trader", key: key, $0) }
        let receipts = try await withThrowingTaskGroup(of: Receipt.self) { group in
            for e in events { group.addTask { try await log.ledger.submit(e).get() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(receipts.map(\.index)).count == 400)
        #expect(log.ledger.treeSize == 402)
        for r in receipts.prefix(20) { try verify(r, log.ledger) }
        // Fewer checkpoints than events: concurrent submissions shared transactions.
        let checkpoints = try log.ledger.store.read { txn in
            var n = 0
            try txn.forEachCheckpoint { _, _ in n += 1 }
            return n
        }
        #expect(checkpoints < 402)
        await log.ledger.close()
    }

    @Test("resubmitting an event returns its original index, never a second entry")
    func duplicates() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("miner")
        let event = try TestLog.event("miner", key: key, 1)
        let first = try await log.ledger.submit(event).get()
        let again = try await log.ledger.submit(event).get()
        #expect(!first.duplicate)
        // The receipt's checkpoint signs the time its entry was logged at.
        let signed = try Checkpoint.open(first.checkpoint, verifier: log.ledger.signer.verifier)
        #expect(try signed.loggedAtMillis == RFC3339.millis(first.loggedAt) && signed.loggedAtMillis != nil)
        #expect(again.duplicate && again.index == first.index && again.eventId == first.eventId)
        try verify(again, log.ledger)
        // Twice in one batch, and alongside the old one.
        let fresh = try TestLog.event("miner", key: key, 2)
        let batch = await log.ledger.submit([fresh, fresh, event])
        let indexes = try batch.map { try $0.get() }
        #expect(indexes[0].index == indexes[1].index && !indexes[0].duplicate && indexes[1].duplicate)
        #expect(indexes[2].index == first.index && indexes[2].duplicate)
        #expect(log.ledger.treeSize == 4)
        // The same body under a key nobody registered, with a signature no key made: refused, not answered
        // with the logged event's receipt.
        let stranger = SigningKey.generate()
        let unsigned = try EventEnvelope.parse(Array(#"{"body":\#(String(decoding: event.canonicalBody, as: UTF8.self)),"keyId":"\#(stranger.publicKey.keyID)","signature":"\#(Base64.encode([UInt8](repeating: 7, count: 64)))"}"#.utf8))
        #expect(await log.ledger.submit(unsigned).error?.kind == .unknownKey)
        #expect(log.ledger.treeSize == 4)
        await log.ledger.close()
    }

    @Test("events from unknown keys, wrong signers, bad signatures and non-registrars are refused and not stored")
    func refusals() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("miner")
        let stranger = SigningKey.generate()
        let size = log.ledger.treeSize

        let unknown = await log.ledger.submit(try TestLog.event("miner", key: stranger))
        #expect(unknown.error?.kind == .unknownKey)

        let wrongSigner = await log.ledger.submit(try TestLog.event("someone-else", key: key))
        #expect(wrongSigner.error?.kind == .unknownKey)
        #expect(wrongSigner.error?.logIndex == 1)

        var tampered = try TestLog.event("miner", key: key).leafInput
        let at = tampered.firstIndex(of: UInt8(ascii: "P"))!  // inside the parcel id
        tampered[at] = UInt8(ascii: "Q")
        let badSignature = await log.ledger.submit(try EventEnvelope.parse(tampered))
        #expect(badSignature.error?.kind == .badSignature)

        var selfBody = TestLog.registration("miner2", key: stranger)
        selfBody.set("signer", .string("miner"))
        let selfRegistration = try EventEnvelope.sign(body: selfBody, with: key)
        let selfRefused = await log.ledger.submit(selfRegistration).error
        #expect(selfRefused?.kind == .forbidden && selfRefused?.rule == "role")

        let secondGenesis = try EventEnvelope.sign(body: TestLog.body("log.genesis", signer: "registrar", extra: [
            ("origin", .string("test.example/log")), ("logKey", .string(log.ledger.signer.verifier.encoded)),
            ("registrar", .object(JSONObject([("participant", .string("registrar")), ("publicKey", .string(log.registrar.publicKey.base64))]))),
        ]), with: log.registrar)
        let refusedGenesis = await log.ledger.submit(secondGenesis).error
        #expect(refusedGenesis?.kind == .ruleViolation && refusedGenesis?.rule == "log.genesis-first")
        #expect(refusedGenesis?.detail.contains("first entry") == true)

        // One key listed twice, or a key already registered to someone, is refused; the batch around it is not.
        var twiceBody = TestLog.registration("miner3", key: stranger)
        twiceBody.set("publicKeys", .array([.string(stranger.publicKey.base64), .string(stranger.publicKey.base64)]))
        let twice = try EventEnvelope.sign(body: twiceBody, with: log.registrar)
        let taken = try EventEnvelope.sign(body: TestLog.registration("miner4", key: key), with: log.registrar)
        let results = await log.ledger.submit([twice, taken])
        #expect(results[0].error?.pointer == "/body/publicKeys/1")
        #expect(results[1].error?.logIndex == 1)
        #expect(log.ledger.treeSize == size)
        await log.ledger.close()
    }

    @Test("reopening continues the same log; checkpoints stay consistent across restarts")
    func restart() async throws {
        let path = TestLog.temporaryPath()
        var log = try await TestLog.open(path: path)
        let key = try await log.register("miner")
        let before = try await log.ledger.submit(try TestLog.event("miner", key: key, 1)).get()
        await log.ledger.close()

        log = try await TestLog.open(path: path)
        #expect(log.ledger.treeSize == 3)
        try verify(before, log.ledger)  // an old receipt still checks against its own checkpoint
        let after = try await log.ledger.submit(try TestLog.event("miner", key: key, 2)).get()
        #expect(after.index == 3)
        let proof = try log.ledger.consistencyProof(first: 3, second: 4)
        let old = try Checkpoint.open(before.checkpoint, verifier: log.ledger.signer.verifier)
        let new = try Checkpoint.open(after.checkpoint, verifier: log.ledger.signer.verifier)
        try Merkle.verifyConsistency(first: old.size, second: new.size, firstRoot: old.root, secondRoot: new.root,
                                     proof: proof.path!)
        await log.ledger.close()
        let audit = try await LogAuditor(source: DatabaseAuditSource(path: log.directory.databasePath),
                                         options: AuditOptions(logKey: log.ledger.signer.verifier)).run()
        #expect(audit.treeSize == 4)
    }

    @Test("a clock set back since the last start does not log an entry before the last one, which an audit would refuse")
    func clockSetBack() async throws {
        let path = TestLog.temporaryPath()
        let now = Ledger.systemClock()
        var log = try await TestLog.open(path: path, clock: { now + 7_200_000 })  // two hours fast
        let key = try await log.register("miner")
        await log.ledger.close()

        log = try await TestLog.open(path: path, clock: { now })  // set right, back by two hours
        let receipt = try await log.ledger.submit(try TestLog.event("miner", key: key, 1)).get()
        let times = try (0...receipt.index).map { try log.ledger.entry(at: $0).loggedAtMillis }
        #expect(times == times.sorted() && times.last == now + 7_200_000)
        await log.ledger.close()
        let audit = try await LogAuditor(source: DatabaseAuditSource(path: log.directory.databasePath),
                                         options: AuditOptions(logKey: log.ledger.signer.verifier)).run()
        #expect(audit.treeSize == receipt.index + 1)
    }

    @Test("a first start stopped before the log key was written is started over, not left unable to start")
    func interruptedFirstStart() async throws {
        let path = TestLog.temporaryPath()
        let directory = DataDirectory(path: path)
        // What a start killed after its first key files leaves: no log.key and no database.
        try SecureFile.writeNew(Array("stale".utf8), to: directory.registrarKeyPath)
        try SecureFile.writeNew(Array("stale".utf8), to: directory.logVerifierKeyPath)
        try SecureFile.writeNew(Array("stale".utf8), to: directory.registrarKeyPath + ".tmp-4242")
        let log = try await TestLog.open(path: path)
        #expect(log.ledger.treeSize == 1)
        #expect(!FileManager.default.fileExists(atPath: directory.registrarKeyPath + ".tmp-4242"))
        // The stale key files are kept aside, not deleted.
        let aside = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.contains(".orphaned-") }.sorted()
        #expect(aside.count == 2 && aside[0].hasPrefix("log.vkey.orphaned-") && aside[1].hasPrefix("registrar.key.orphaned-"))
        #expect(try String(contentsOfFile: directory.logVerifierKeyPath, encoding: .utf8) == log.ledger.signer.verifier.encoded + "\n")
        // The registrar key on disk is the one genesis names: it registers participants.
        _ = try await log.register("miner")
        #expect(log.ledger.treeSize == 2)
        await log.ledger.close()
    }

    @Test("auditing a running daemon's database while it appends passes, and says its custody tables were not compared")
    func auditWhileAppending() async throws {
        let log = try await TestLog.open()
        let key = try await log.register("miner")
        for n in 0..<20 { _ = try await log.ledger.submit(try TestLog.event("miner", key: key, n)).get() }
        // The daemon appends right after the auditor has read the checkpoint it audits.
        struct Appending: AuditSource {
            let file: DatabaseAuditSource
            let append: @Sendable () async throws -> Void
            var store: LogStore? { file.store }
            func latestCheckpoint() async throws -> String {
                let note = try await file.latestCheckpoint()
                try await append()
                return note
            }
            func entries(start: UInt64, limit: Int) async throws -> [LogEntry] { try await file.entries(start: start, limit: limit) }
            func consistencyProof(first: UInt64, second: UInt64) async throws -> [[UInt8]]? { nil }
        }
        let ledger = log.ledger
        let source = Appending(file: try DatabaseAuditSource(path: log.directory.databasePath)) {
            for n in 20..<25 { _ = try await ledger.submit(try TestLog.event("miner", key: key, n)).get() }
        }
        let report = try await LogAuditor(source: source, options: AuditOptions(logKey: ledger.signer.verifier, chunkSize: 7)).run()
        #expect(report.treeSize == 22 && report.grewDuringAudit == 27)
        // Stopped, the same file is compared in full.
        await ledger.close()
        let quiet = try await LogAuditor(source: DatabaseAuditSource(path: log.directory.databasePath),
                                         options: AuditOptions(logKey: ledger.signer.verifier)).run()
        #expect(quiet.treeSize == 27 && quiet.grewDuringAudit == nil)
    }

    @Test("a data directory refuses what would fork its log or share it: a lost database under an existing log key, a second open; a first start stopped after its genesis is finished")
    func dataDirectoryStates() async throws {
        let path = TestLog.temporaryPath()
        let log = try await TestLog.open(path: path)
        await #expect(throws: (any Error).self) { _ = try await TestLog.open(path: path) }  // still open
        let verifier = log.ledger.signer.verifier.encoded
        await log.ledger.close()

        // Stopped after the genesis, before log.key was renamed into place: the pending key is the log's.
        let directory = log.directory
        try FileManager.default.moveItem(atPath: directory.logKeyPath, toPath: directory.logKeyPath + ".pending")
        let finished = try await TestLog.open(path: path)
        #expect(finished.ledger.signer.verifier.encoded == verifier && finished.ledger.treeSize == 1)
        #expect(FileManager.default.fileExists(atPath: directory.logKeyPath))
        await finished.ledger.close()

        // The database gone, the key still there: refused, not a new log under the same key.
        try FileManager.default.moveItem(atPath: directory.databasePath, toPath: path + "/moved.sqlite")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: directory.databasePath + suffix) }
        let error = await #expect(throws: DataDirectoryError.self) { _ = try await TestLog.open(path: path) }
        #expect(error?.description.contains("the database was lost or moved") == true)
    }

    @Test("a checkpoint's logged-at line reads as its time; one that is not a time is an error, not an absent line")
    func loggedAtLine() throws {
        let root = Base64.encode([UInt8](repeating: 1, count: 32))
        #expect(try Checkpoint(text: "o\n1\n\(root)\n").loggedAtMillis == nil)
        #expect(try Checkpoint(text: "o\n1\n\(root)\nlogged-at 2026-11-30T01:12:05.123Z\n").loggedAtMillis == 1_796_001_125_123)
        #expect(throws: NoteError.self) { try Checkpoint(text: "o\n1\n\(root)\nlogged-at 12026-11-30T01:12:05.123Z\n").loggedAtMillis }
    }

    @Test("after close, submissions are refused as shutting down")
    func closed() async throws {
        let log = try await TestLog.open()
        await log.ledger.close()
        let result = await log.ledger.submit(try TestLog.event("registrar", key: log.registrar))
        #expect(result.error?.kind == .shuttingDown)
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
