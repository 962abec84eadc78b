import CustodyCrypto
import CustodyDomain
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging

/// The single writer: one thread that drains the queue of submissions and commits each drained batch
/// in one transaction with one checkpoint (group commit). Blocking SQLite calls and fsync happen here,
/// never on an event loop or the cooperative pool.
final class Sequencer: @unchecked Sendable {
    // `queue`, `stopping` and `stopped` are guarded by `condition`; `head` is touched only by the thread.
    private let condition = NSCondition()
    private var queue: [PendingGroup] = []
    private var stopping = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false
    private var head: SequencerState

    init(state: SequencerState) { head = state }

    func start(ledger: Ledger) {
        let thread = Thread { [self] in run(ledger) }
        thread.name = "custody-sequencer"
        thread.start()
    }

    func enqueue(_ group: PendingGroup) {
        condition.lock()
        if stopped {
            condition.unlock()
            group.continuation.resume(returning: BatchOutcome(
                items: group.envelopes.map { _ in .refused(LedgerError(.shuttingDown, "the ledger is shutting down")) },
                tree: nil, checkpoint: "", loggedAt: ""))
            return
        }
        queue.append(group)
        condition.signal()
        condition.unlock()
    }

    /// Waits until everything queued is committed and the thread has ended.
    func stop() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume()
                return
            }
            stopping = true
            stopWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    private func run(_ ledger: Ledger) {
        Thread.nameForKernel("custody-seq")
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                stopped = true
                let waiters = stopWaiters
                condition.unlock()
                waiters.forEach { $0.resume() }
                return
            }
            // Take whole groups up to the batch limit (a single larger group is taken alone).
            var batch: [PendingGroup] = []
            var count = 0
            while let next = queue.first, batch.isEmpty || count + next.envelopes.count <= ledger.maxBatch {
                batch.append(queue.removeFirst())
                count += next.envelopes.count
            }
            condition.unlock()
            commit(batch, ledger)
        }
    }

    /// Sequences one batch. All state changes are made on a copy that replaces `head` only after COMMIT.
    /// Receipts are not built here: each group gets the batch's tree and what happened to each of its
    /// envelopes, and its submitting task assembles the receipts (see `BatchOutcome`).
    private func commit(_ batch: [PendingGroup], _ ledger: Ledger) {
        let started = ContinuousClock.now
        var next = head
        var items: [[SequencedItem?]] = batch.map { Array(repeating: nil, count: $0.envelopes.count) }
        // Repeats of events logged before this batch: their receipts are built once the tree is final.
        var olderDuplicates: [(group: Int, item: Int, index: UInt64)] = []
        let now = ledger.clock()
        // loggedAt never goes backwards, even if the wall clock does.
        let loggedAt = max(now, next.lastLoggedAt)
        let oldSize = next.frontier.size
        var appended = 0
        var newKeys: [ParticipantKey] = []
        var tree: BatchTree?
        let domain = ledger.domainCache
        do {
            try ledger.store.write { txn in
                domain.begin(txn.domain)
                let expected = batch.reduce(0) { $0 + $1.envelopes.count }
                var builder = BatchTree.Builder(frontier: next.frontier, expected: expected)
                var seen: [EventIDKey: (index: UInt64, chainHash: String)] = [:]
                // Entry rows and tree nodes are written together after the loop, in multi-row inserts; nothing in
                // the loop reads them back (a repeat is found through the event-key index, written per event).
                var entries: [(entry: LogEntry, eventID: [UInt8])] = []
                var nodes: [MerkleFrontier.Node] = []
                entries.reserveCapacity(expected)
                nodes.reserveCapacity(expected + 64)
                for (g, group) in batch.enumerated() {
                    for (i, envelope) in group.envelopes.enumerated() {
                        let prepared = group.prepared[i]
                        if prepared.check == .invalid {
                            items[g][i] = .refused(LedgerError(.badSignature, "the signature does not verify under key \(envelope.keyID)",
                                                               pointer: "/signature"))
                            continue
                        }
                        if let earlier = seen[EventIDKey(envelope.eventID)] {
                            items[g][i] = .appended(index: earlier.index, chainHash: earlier.chainHash, duplicate: true)
                            continue
                        }
                        let index = next.frontier.size
                        let facts = EventFacts(index: index, loggedAt: loggedAt, type: envelope.type, signer: envelope.signer,
                                               keyID: envelope.keyID, occurredAt: prepared.occurredAt, body: envelope.bodyReader)
                        let changes: [StateChange]
                        // A refused event already in the log gets its receipt back, but only if this envelope's
                        // signature verified: an envelope no key vouches for is refused, not answered.
                        var verified = prepared.check == .valid
                        do {
                            let key = try ledger.rules.signingKey(for: facts, state: domain)
                            if prepared.check == .deferred {
                                guard key.isValidSignature(envelope.signature, for: envelope.canonicalBody) else {
                                    throw LedgerError(.badSignature, "the signature does not verify under key \(envelope.keyID)",
                                                      pointer: "/signature")
                                }
                                verified = true
                            }
                            if ledger.enforcesRules || CustodyRules.registersKeys(facts) {
                                changes = try ledger.rules.evaluate(facts, state: domain, catalogued: prepared.catalogued)
                            } else {
                                changes = []
                            }
                        } catch let error as LedgerError {
                            // An event already in the log gets its receipt back, whatever the rules say of it now.
                            if verified, let existing = try txn.index(ofEvent: envelope.eventID, occurredAt: prepared.occurredAt) {
                                olderDuplicates.append((g, i, existing))
                            } else {
                                items[g][i] = .refused(error)
                            }
                            continue
                        } catch let violation as RuleViolation {
                            if verified, let existing = try txn.index(ofEvent: envelope.eventID, occurredAt: prepared.occurredAt) {
                                olderDuplicates.append((g, i, existing))
                            } else {
                                items[g][i] = .refused(LedgerError(violation))
                            }
                            continue
                        }
                        let chainHead = HashChain.next(previous: next.chainHead, leafHash: prepared.leafHash)
                        let entry = LogEntry(index: index, leafInput: prepared.leafInput, leafHash: prepared.leafHash,
                                             chainHash: chainHead, loggedAtMillis: loggedAt)
                        // The event-key index finds a repeat in the same statement that records the new event's key.
                        guard try txn.insertEventKey(envelope.eventID, occurredAt: prepared.occurredAt, index: index) else {
                            guard let existing = try txn.index(ofEvent: envelope.eventID, occurredAt: prepared.occurredAt) else {
                                throw StoreErrorInLedger("event \(envelope.eventIDHex) conflicts but is not in the log")
                            }
                            olderDuplicates.append((g, i, existing))
                            continue
                        }
                        try domain.apply(changes)
                        for case .key(let key) in changes { newKeys.append(key) }
                        entries.append((entry, envelope.eventID))
                        next.chainHead = chainHead
                        _ = builder.add(leaf: index, hash: prepared.leafHash)
                        let completed = next.frontier.append(leafHash: prepared.leafHash)
                        nodes += completed
                        builder.add(completed)
                        let chainText = Base64.encode(chainHead)
                        seen[EventIDKey(envelope.eventID)] = (index, chainText)
                        items[g][i] = .appended(index: index, chainHash: chainText, duplicate: false)
                        appended += 1
                    }
                }
                try txn.insert(entries: entries)
                try txn.insert(nodes: nodes)
                try domain.flush()
                let size = next.frontier.size
                // Stored nodes, each read at most once: the consistency check and older duplicates' proofs.
                let stored = BatchNodeCache(base: txn)
                if size > oldSize {
                    let root = next.frontier.root
                    // Never sign a checkpoint inconsistent with the last one: prove the new tree extends
                    // the old from the stored nodes, which also catches a corrupted stored node.
                    if oldSize > 0 {
                        let proof = try Merkle.consistencyProof(first: oldSize, second: size, reader: stored)
                        try Merkle.verifyConsistency(first: oldSize, second: size, firstRoot: next.checkpointRoot,
                                                     secondRoot: root, proof: proof)
                    }
                    next.checkpointNote = try Checkpoint(origin: ledger.signer.name, size: size, root: root, loggedAtMillis: loggedAt,
                                                         previousSize: oldSize)
                        .signed(by: ledger.signer)
                    next.checkpointRoot = root
                    try txn.insert(checkpointNote: next.checkpointNote, size: size)
                    tree = builder.build(frontier: next.frontier)
                }
                for r in olderDuplicates {
                    guard let entry = try txn.entry(at: r.index) else {
                        throw StoreErrorInLedger("entry \(r.index) named by the event id index is missing")
                    }
                    let path = try Merkle.inclusionProof(index: r.index, size: size, reader: stored)
                    items[r.group][r.item] = .receipt(Receipt(
                        index: r.index, eventId: batch[r.group].envelopes[r.item].eventIDHex,
                        leafHash: Base64.encode(entry.leafHash), chainHash: Base64.encode(entry.chainHash),
                        loggedAt: RFC3339.format(millis: entry.loggedAtMillis), duplicate: true,
                        checkpoint: next.checkpointNote,
                        inclusionProof: InclusionProof(leafIndex: r.index, treeSize: size, path: path)))
                }
            }
            domain.commit()
            next.lastLoggedAt = loggedAt
            head = next
            ledger.publish(next, newKeys: newKeys)
            ledger.logger.debug("committed batch", metadata: [
                "batch.events": "\(items.reduce(0) { $0 + $1.count })", "batch.appended": "\(appended)",
                "log.size": "\(next.frontier.size)", "batch.duration": "\(ContinuousClock.now - started)",
            ])
        } catch {
            domain.rollback()
            tree = nil
            ledger.logger.error("batch not committed", metadata: ["error": "\(error)", "log.size": "\(oldSize)"])
            let failure = LedgerError(.storageFailure, "the batch could not be committed: \(error)")
            for g in items.indices {
                for i in items[g].indices {
                    if case .refused? = items[g][i] { continue }
                    items[g][i] = .refused(failure)
                }
            }
        }
        let checkpoint = head.checkpointNote
        let loggedAtText = RFC3339.format(millis: loggedAt)
        for (g, group) in batch.enumerated() {
            group.continuation.resume(returning: BatchOutcome(items: items[g].map { $0! }, tree: tree, checkpoint: checkpoint,
                                                              loggedAt: loggedAtText))
        }
    }
}

/// Serves stored tree nodes to one batch's transaction (which also sees the batch's own writes), each read
/// at most once.
final class BatchNodeCache: MerkleNodeReader {
    private let base: LogWriteTransaction
    private var cache: [Int64: [UInt8]] = [:]
    private var subtrees: [SubtreeRange: [UInt8]] = [:]

    struct SubtreeRange: Hashable {
        let lo: UInt64
        let hi: UInt64
    }

    func rememberedSubtree(_ lo: UInt64, _ hi: UInt64) -> [UInt8]? { subtrees[SubtreeRange(lo: lo, hi: hi)] }

    func remember(subtree lo: UInt64, _ hi: UInt64, hash: [UInt8]) { subtrees[SubtreeRange(lo: lo, hi: hi)] = hash }

    init(base: LogWriteTransaction) { self.base = base }

    func node(level: Int, index: UInt64) throws -> [UInt8] {
        let key = Int64(level) << 48 | Int64(index)
        if let hash = cache[key] { return hash }
        let hash = try base.node(level: level, index: index)
        cache[key] = hash
        return hash
    }
}

/// An event id as a dictionary key, hashed as one run of bytes: `[UInt8]` hashes byte by byte, and the
/// sequencer looks up every event of a batch.
struct EventIDKey: Hashable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

/// The store's index and its rows disagree.
struct StoreErrorInLedger: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
