import CustodyCrypto
import CustodyDomain
import CustodyLog
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
            group.continuation.resume(returning: group.envelopes.map { _ in
                .failure(LedgerError(.shuttingDown, "the ledger is shutting down"))
            })
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
    private func commit(_ batch: [PendingGroup], _ ledger: Ledger) {
        let started = ContinuousClock.now
        var next = head
        var results: [[Result<Receipt, LedgerError>?]] = batch.map { Array(repeating: nil, count: $0.envelopes.count) }
        // Accepted or duplicate items whose receipts are built once the tree is final.
        var receiptsToBuild: [(group: Int, item: Int, index: UInt64, duplicate: Bool)] = []
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // loggedAt never goes backwards, even if the wall clock does.
        let loggedAt = max(now, next.lastLoggedAt)
        let oldSize = next.frontier.size
        var appended = 0
        var newKeys: [ParticipantKey] = []
        do {
            try ledger.store.write { txn in
                let nodes = BatchNodeCache(base: txn)
                var seen: [[UInt8]: UInt64] = [:]
                var appendedEntries: [UInt64: LogEntry] = [:]
                for (g, group) in batch.enumerated() {
                    for (i, envelope) in group.envelopes.enumerated() {
                        if group.checks[i] == .invalid {
                            results[g][i] = .failure(LedgerError(.badSignature, "the signature does not verify under key \(envelope.keyID)",
                                                                 pointer: "/signature"))
                            continue
                        }
                        if let existing = try seen[envelope.eventID] ?? txn.index(ofEvent: envelope.eventID) {
                            receiptsToBuild.append((g, i, existing, true))
                            continue
                        }
                        let facts = envelope.facts(index: next.frontier.size, loggedAt: loggedAt)
                        let changes: [StateChange]
                        do {
                            let key = try ledger.rules.signingKey(for: facts, state: txn.domain)
                            if group.checks[i] == .deferred && !key.isValidSignature(envelope.signature, for: envelope.canonicalBody) {
                                throw LedgerError(.badSignature, "the signature does not verify under key \(envelope.keyID)",
                                                  pointer: "/signature")
                            }
                            changes = try ledger.rules.evaluate(facts, state: txn.domain)
                        } catch let error as LedgerError {
                            results[g][i] = .failure(error)
                            continue
                        } catch let violation as RuleViolation {
                            results[g][i] = .failure(LedgerError(violation))
                            continue
                        }
                        try txn.domain.apply(changes)
                        for case .key(let key) in changes { newKeys.append(key) }
                        let index = next.frontier.size
                        let leafInput = envelope.leafInput
                        let leafHash = Merkle.leafHash(leafInput)
                        next.chainHead = HashChain.next(previous: next.chainHead, leafHash: leafHash)
                        let entry = LogEntry(index: index, leafInput: leafInput, leafHash: leafHash,
                                             chainHash: next.chainHead, loggedAtMillis: loggedAt)
                        try txn.insert(entry: entry, eventID: envelope.eventID)
                        // Receipts need only the hashes; keep the entry without its bytes.
                        appendedEntries[index] = LogEntry(index: index, leafInput: [], leafHash: leafHash,
                                                          chainHash: next.chainHead, loggedAtMillis: loggedAt)
                        nodes.add(level: 0, index: index, hash: leafHash)
                        let completed = next.frontier.append(leafHash: leafHash)
                        try txn.insert(nodes: completed)
                        for node in completed { nodes.add(level: node.level, index: node.index, hash: node.hash) }
                        seen[envelope.eventID] = index
                        receiptsToBuild.append((g, i, index, false))
                        appended += 1
                    }
                }
                let size = next.frontier.size
                if size > oldSize {
                    let root = next.frontier.root
                    // Never sign a checkpoint inconsistent with the last one: prove the new tree extends
                    // the old from the stored nodes, which also catches a corrupted stored node.
                    if oldSize > 0 {
                        let proof = try Merkle.consistencyProof(first: oldSize, second: size, reader: nodes)
                        try Merkle.verifyConsistency(first: oldSize, second: size, firstRoot: next.checkpointRoot,
                                                     secondRoot: root, proof: proof)
                    }
                    next.checkpointNote = try Checkpoint(origin: ledger.signer.name, size: size, root: root)
                        .signed(by: ledger.signer)
                    next.checkpointRoot = root
                    try txn.insert(checkpointNote: next.checkpointNote, size: size)
                }
                // Every fresh entry of the batch shares one loggedAt: format it once.
                let loggedAtText = RFC3339.format(millis: loggedAt)
                for r in receiptsToBuild {
                    let entry: LogEntry
                    if let fresh = appendedEntries[r.index] {
                        entry = fresh
                    } else if let stored = try txn.entry(at: r.index) {
                        entry = stored
                    } else {
                        throw StoreErrorInLedger("entry \(r.index) named by the event id index is missing")
                    }
                    let path = try Merkle.inclusionProof(index: r.index, size: size, reader: nodes)
                    results[r.group][r.item] = .success(Receipt(
                        index: r.index, eventId: batch[r.group].envelopes[r.item].eventIDHex,
                        leafHash: Base64.encode(entry.leafHash), chainHash: Base64.encode(entry.chainHash),
                        loggedAt: r.duplicate ? RFC3339.format(millis: entry.loggedAtMillis) : loggedAtText, duplicate: r.duplicate,
                        checkpoint: next.checkpointNote,
                        inclusionProof: InclusionProof(leafIndex: r.index, treeSize: size, path: path)))
                }
            }
            next.lastLoggedAt = loggedAt
            head = next
            ledger.publish(next, newKeys: newKeys)
            ledger.logger.debug("committed batch", metadata: [
                "batch.events": "\(results.reduce(0) { $0 + $1.count })", "batch.appended": "\(appended)",
                "log.size": "\(next.frontier.size)", "batch.duration": "\(ContinuousClock.now - started)",
            ])
        } catch {
            ledger.logger.error("batch not committed", metadata: ["error": "\(error)", "log.size": "\(oldSize)"])
            let failure = LedgerError(.storageFailure, "the batch could not be committed: \(error)")
            for g in results.indices {
                for i in results[g].indices {
                    if case .failure = results[g][i] { continue }
                    results[g][i] = .failure(failure)
                }
            }
        }
        for (g, group) in batch.enumerated() {
            group.continuation.resume(returning: results[g].map { $0! })
        }
    }
}

/// Serves tree nodes for one batch: nodes created in the batch from memory, older ones from the
/// transaction (which also sees the batch's own writes), each read at most once.
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

    func add(level: Int, index: UInt64, hash: [UInt8]) {
        cache[Int64(level) << 48 | Int64(index)] = hash
    }

    func node(level: Int, index: UInt64) throws -> [UInt8] {
        let key = Int64(level) << 48 | Int64(index)
        if let hash = cache[key] { return hash }
        let hash = try base.node(level: level, index: index)
        cache[key] = hash
        return hash
    }
}

/// The store's index and its rows disagree.
struct StoreErrorInLedger: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
