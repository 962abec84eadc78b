import CustodyCrypto
import CustodyDomain
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging
import Synchronization

/// The append side of the log and its reads: admits signed events, sequences them through one writer
/// thread that group-commits each batch in a single durable transaction with a single signed checkpoint,
/// and answers entry, checkpoint and proof queries.
///
/// Pipeline: `submit` parses nothing (callers hand it parsed envelopes), checks signatures on all cores
/// off the caller's thread, then queues the group for the sequencer. The sequencer applies the rules in
/// order, writes entries, tree nodes and the checkpoint, commits (fsync), and only then answers.
public final class Ledger: Sendable {
    /// The underlying store.
    public let store: LogStore
    /// The log's checkpoint signer (key name = origin).
    public let signer: NoteSigner
    /// Most events sequenced in one transaction; bounds latency and memory of a batch.
    public let maxBatch: Int
    /// The custody rules every append must pass.
    public let rules: CustodyRules
    /// False only in the benchmark's comparison: events are admitted on their key alone (genesis and
    /// participant events still change the state, so keys get registered), without the custody rules.
    let enforcesRules: Bool
    let logger: Logger
    /// The time an entry is logged at, in milliseconds since 1970: the system clock, or a test's.
    let clock: @Sendable () -> Int64
    /// Its data directory's lock, held until `close()`.
    private let directoryLock = Mutex<DirectoryLock?>(nil)
    /// The hot custody state in memory, used only by the sequencer thread (inside its transactions).
    nonisolated(unsafe) let domainCache: DomainCache
    private let sequencer: Sequencer
    private let published: Mutex<Published>

    /// What readers see of the sequencer's state after each commit.
    struct Published: Sendable {
        /// Public keys by key id, for checking signatures before sequencing. Keys are never removed: a key
        /// id is a hash of its key, so a signature valid under it stays valid; whether the key may still sign
        /// is the rules' call.
        var keys: [String: [UInt8]]
        var treeSize: UInt64
        var checkpointNote: String
        var accepting: Bool
    }

    /// Opens the ledger over `store`. The log must already have its genesis entry (see `DataDirectory`),
    /// or be empty, in which case the first event submitted must be the genesis event.
    public convenience init(store: LogStore, signer: NoteSigner, rules: CustodyRules = CustodyRules(), maxBatch: Int = 4096,
                            logger: Logger) throws {
        try self.init(store: store, signer: signer, rules: rules, maxBatch: maxBatch, logger: logger, enforcesRules: true)
    }

    /// The designated initializer. With `enforcesRules` false the ledger admits events on their keys alone,
    /// without the custody rules: only for measuring what the rules cost (`custody-bench`); such a log would
    /// not pass an audit. `clock` stands in for the system clock in tests.
    package init(store: LogStore, signer: NoteSigner, rules: CustodyRules = CustodyRules(), maxBatch: Int = 4096,
                 logger: Logger, enforcesRules: Bool, clock: @escaping @Sendable () -> Int64 = Ledger.systemClock) throws {
        self.enforcesRules = enforcesRules
        self.clock = clock
        self.store = store
        self.signer = signer
        self.rules = rules
        self.maxBatch = maxBatch
        self.logger = logger
        let cache = DomainCache()
        domainCache = cache
        let head = try store.read { txn -> (SequencerState, [String: [UInt8]]) in
            let size = try txn.treeSize()
            let count = try txn.entryCount()
            guard count == size else {
                throw LedgerStartError("the log has \(count) entries but its latest checkpoint covers \(size)")
            }
            let frontier = try MerkleFrontier(size: size, reader: txn)
            let last = size == 0 ? nil : try txn.entry(at: size - 1)
            guard size == 0 || last != nil else { throw LedgerStartError("the log has no entry at index \(size - 1), the last its checkpoint covers") }
            if let last, last.loggedAtMillis > clock() + 1000 {
                // Entries are logged at the last one's time until the clock catches up, and occurredAt is
                // checked against that time, so the clock's error is the log's for a while.
                logger.warning("the clock is behind the last entry's loggedAt: new entries are logged at that time until it catches up", metadata: [
                    "log.last-logged-at": "\(RFC3339.format(millis: last.loggedAtMillis))", "clock.now": "\(RFC3339.format(millis: clock()))"])
            }
            let chain = last?.chainHash ?? HashChain.start
            var note = ""
            if let latest = try txn.latestCheckpoint() {
                let checkpoint = try Checkpoint.open(latest.note, verifier: signer.verifier)
                guard checkpoint.size == size, checkpoint.root == frontier.root else {
                    throw LedgerStartError("the stored tree does not match the latest signed checkpoint (size \(size))")
                }
                note = latest.note
            }
            var keys: [String: [UInt8]] = [:]
            for key in try txn.domain.allKeys() { keys[key.keyID] = key.publicKey }
            // Without the rules, no append looks up a parcel, certificate or grading report.
            if enforcesRules {
                let started = ContinuousClock.now
                let ids = try cache.preloadFilter(from: txn.domain)
                logger.debug("loaded the filter of stored ids", metadata: [
                    "filter.ids": "\(ids)", "filter.duration": "\(ContinuousClock.now - started)"])
            }
            return (SequencerState(frontier: frontier, chainHead: chain, checkpointNote: note, checkpointRoot: frontier.root,
                                   // From the last entry, not 0: a clock set back since (an NTP step, a restored
                                   // VM) must not log times before it, which an audit refuses.
                                   lastLoggedAt: last?.loggedAtMillis ?? 0), keys)
        }
        published = Mutex(Published(keys: head.1, treeSize: head.0.frontier.size,
                                    checkpointNote: head.0.checkpointNote, accepting: true))
        sequencer = Sequencer(state: head.0)
        sequencer.start(ledger: self)
    }

    /// Milliseconds since 1970 by the system clock.
    package static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Appending

    /// Appends envelopes in order. Each gets a receipt once durably committed, or the reason it was refused.
    /// Envelopes already in the log get their original index and a fresh proof, never a second entry.
    public func submit(_ envelopes: [EventEnvelope]) async -> [Result<Receipt, LedgerError>] {
        let (keys, accepting) = published.withLock { ($0.keys, $0.accepting) }
        guard accepting else {
            return envelopes.map { _ in .failure(LedgerError(.shuttingDown, "the ledger is shutting down")) }
        }
        // Key ids are hashes of the keys, so a signature that verifies under the key with this id is valid
        // whatever the log's state; whether that key may sign for this signer is the sequencer's call.
        let rules = enforcesRules
        let prepared = await ParallelVerifier.mapAsync(envelopes) { PreparedEvent($0, keys: keys, rules: rules) }
        return await sequence(envelopes, prepared)
    }

    /// Queues checked envelopes for the sequencer and builds their receipts, on the caller's task, once the
    /// batch is committed.
    func sequence(_ envelopes: [EventEnvelope], _ prepared: [PreparedEvent]) async -> [Result<Receipt, LedgerError>] {
        guard !envelopes.isEmpty else { return [] }
        let outcome = await withCheckedContinuation { continuation in
            sequencer.enqueue(PendingGroup(envelopes: envelopes, prepared: prepared, continuation: continuation))
        }
        return outcome.receipts(for: envelopes, ledger: self)
    }

    /// Public keys by key id as last published, for checking signatures before sequencing.
    var publishedKeys: [String: [UInt8]] { published.withLock { $0.keys } }

    /// Whether the ledger still takes events.
    var isAccepting: Bool { published.withLock { $0.accepting } }

    /// Appends one envelope.
    public func submit(_ envelope: EventEnvelope) async -> Result<Receipt, LedgerError> {
        await submit([envelope])[0]
    }

    /// Keeps `lock` until `close()`.
    func hold(_ lock: DirectoryLock) { directoryLock.withLock { $0 = lock } }

    /// Stops accepting, finishes what is queued, and stops the sequencer thread.
    public func close() async {
        published.withLock { $0.accepting = false }
        await sequencer.stop()
        do { try store.finishBackgroundCheckpoints() } catch {
            logger.warning("the last WAL checkpoint failed; SQLite checkpoints on its own from here", metadata: ["error": "\(error)"])
        }
        directoryLock.withLock { $0 = nil }
    }

    func publish(_ state: SequencerState, newKeys: [ParticipantKey]) {
        published.withLock {
            for key in newKeys { $0.keys[key.keyID] = key.publicKey }
            $0.treeSize = state.frontier.size
            $0.checkpointNote = state.checkpointNote
        }
    }

    // MARK: Reading

    /// The latest signed checkpoint note and its tree size.
    public var latestCheckpoint: (size: UInt64, note: String) {
        published.withLock { ($0.treeSize, $0.checkpointNote) }
    }

    /// Current tree size.
    public var treeSize: UInt64 { published.withLock { $0.treeSize } }

    /// Up to `limit` entries from `start`.
    public func entries(start: UInt64, limit: Int) throws -> [LogEntry] {
        let size = treeSize
        guard start < size else { return [] }
        return try store.read { try $0.entries(start: start, limit: Int(min(UInt64(limit), size - start))) }
    }

    /// Up to `limit` of the signed checkpoints of sizes from `start` up to the current tree size, in increasing
    /// size: one per committed batch, so that an auditor over HTTP can check every entry's `loggedAt` and the
    /// chain of `previous-size` lines, as an audit of the database does.
    public func checkpoints(start: UInt64, limit: Int) throws -> [(size: UInt64, note: String)] {
        let size = treeSize
        guard start <= size else { return [] }
        return try store.read { try $0.checkpoints(after: max(start, 1) - 1, through: size, limit: limit) }
    }

    /// The entry at `index`.
    public func entry(at index: UInt64) throws -> LogEntry {
        guard index < treeSize, let entry = try store.read({ try $0.entry(at: index) }) else {
            throw LedgerError(.notFound, "no entry at index \(index) (tree size \(treeSize))")
        }
        return entry
    }

    /// Inclusion proof of `index` in the tree of `size` leaves (default: the latest).
    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws -> InclusionProof {
        let current = treeSize
        let size = size ?? current
        guard size <= current else {
            throw LedgerError(.invalidParameter, "size \(size) is beyond the current tree size \(current)", parameter: "size")
        }
        guard index < size else {
            throw LedgerError(.invalidParameter, "index \(index) is not below tree size \(size)", parameter: "index")
        }
        let path = try store.read { try Merkle.inclusionProof(index: index, size: size, reader: $0) }
        return InclusionProof(leafIndex: index, treeSize: size, path: path)
    }

    /// Consistency proof between two tree sizes, 1 ≤ first ≤ second ≤ current.
    public func consistencyProof(first: UInt64, second: UInt64) throws -> ConsistencyProof {
        let current = treeSize
        guard first >= 1, first <= second, second <= current else {
            // The parameter at fault: `from` when it is 0 or above `to`, else `to`.
            throw LedgerError(.invalidParameter, "need 1 ≤ from ≤ to ≤ tree size \(current), got from=\(first) to=\(second)",
                              parameter: first >= 1 && first <= second ? "to" : "from")
        }
        let path = try store.read { try Merkle.consistencyProof(first: first, second: second, reader: $0) }
        return ConsistencyProof(first: first, second: second, path: path)
    }
}

/// The ledger refused to start: the stored log is not what its signed checkpoints say.
public struct LedgerStartError: Error, CustomStringConvertible {
    /// What is inconsistent.
    public let description: String
    init(_ description: String) { self.description = description }
}

enum SignatureCheck: Sendable { case valid, invalid, deferred }

/// What can be worked out about an envelope before it is sequenced, on all cores: its signature under the
/// key its key id names (when that key is known), its stored bytes and leaf hash, and its time.
struct PreparedEvent: Sendable {
    let check: SignatureCheck
    /// The bytes stored in the log and their RFC 9162 leaf hash (empty for a bad signature: never stored).
    let leafInput: [UInt8]
    let leafHash: [UInt8]
    /// `occurredAt` in milliseconds (every envelope has a valid one: parsing checks it).
    let occurredAt: Int64
    /// The rules' stateless first step, taken here off the sequencer; nil when the ledger runs without the rules.
    let catalogued: CatalogueVerdict?

    init(_ envelope: EventEnvelope, keys: [String: [UInt8]], rules: Bool) {
        if let raw = keys[envelope.keyID] {
            let key = try! PublicKey(bytes: raw)
            check = key.isValidSignature(envelope.signature, for: envelope.canonicalBody) ? .valid : .invalid
        } else {
            check = .deferred
        }
        if check == .invalid {
            leafInput = []
            leafHash = []
        } else {
            leafInput = envelope.leafInput
            leafHash = Merkle.leafHash(leafInput)
        }
        occurredAt = envelope.occurredAtMillis
        catalogued = rules && check != .invalid ? CustodyRules.catalogue(type: envelope.type, body: envelope.bodyReader) : nil
    }
}

struct PendingGroup: Sendable {
    let envelopes: [EventEnvelope]
    let prepared: [PreparedEvent]
    let continuation: CheckedContinuation<BatchOutcome, Never>
}

/// Everything the sequencer folds forward; replaced as a whole only after a successful commit.
struct SequencerState: Sendable {
    var frontier: MerkleFrontier
    var chainHead: [UInt8]
    var checkpointNote: String
    var checkpointRoot: [UInt8]
    var lastLoggedAt: Int64
}
