import CustodyCrypto
import CustodyDomain
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation

/// Where an auditor reads a log from: a daemon over HTTP, or the SQLite file itself.
public protocol AuditSource: Sendable {
    /// The latest signed checkpoint note.
    func latestCheckpoint() async throws -> String
    /// Up to `limit` entries from `start`, in order (a source may return fewer).
    func entries(start: UInt64, limit: Int) async throws -> [LogEntry]
    /// A consistency proof between two sizes, when the source serves proofs (a daemon); nil otherwise.
    func consistencyProof(first: UInt64, second: UInt64) async throws -> [[UInt8]]?
    /// The signed checkpoints of sizes `after + 1 ... through`, in increasing size, when the source serves them
    /// (a daemon's `GET /v1/checkpoints`); nil otherwise. A source with a `store` is read directly instead.
    func checkpoints(after: UInt64, through: UInt64) async throws -> [(size: UInt64, note: String)]?
    /// The store itself, when auditing a database file: its tree nodes, every signed checkpoint and its
    /// derived tables are checked too.
    var store: LogStore? { get }
}

extension AuditSource {
    /// Serves no checkpoints but the latest.
    public func checkpoints(after: UInt64, through: UInt64) async throws -> [(size: UInt64, note: String)]? { nil }
}

/// What to check beyond the log itself.
public struct AuditOptions: Sendable {
    /// The log's verifier key to pin. Without it the key named by the genesis entry is trusted.
    public var logKey: NoteVerifier?
    /// An earlier signed checkpoint (note text) that the current log must extend.
    public var since: String?
    /// Entries per parallel verification chunk; bounds memory.
    public var chunkSize: Int
    /// Called after each chunk with the number of entries verified.
    public var progress: (@Sendable (UInt64, UInt64) -> Void)?
    /// The custody rules to re-run (the log's own settings).
    public var rules = CustodyRules()
    /// Whether to re-run the custody rules over every event and compare the state they derive with a
    /// database's tables. False checks the log alone, as a monitor of the log's integrity needs: every
    /// signature against the keys registered at its index (genesis and participant events are still
    /// folded), every hash, the tree, every checkpoint and repeats; an event the rules would refuse passes.
    public var custodyRules = true

    /// Options with defaults.
    public init(logKey: NoteVerifier? = nil, since: String? = nil, chunkSize: Int = 2048,
                progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) {
        self.logKey = logKey
        self.since = since
        self.chunkSize = chunkSize
        self.progress = progress
    }
}

/// The first thing found wrong in a log, with the index where it was found when there is one.
public struct AuditFailure: Error, Sendable, CustomStringConvertible {
    /// The first bad index, or nil for a problem with the log as a whole (its checkpoint, its size).
    public let index: UInt64?
    /// What is wrong.
    public let reason: String

    init(_ index: UInt64?, _ reason: String) {
        self.index = index
        self.reason = reason
    }

    /// `index N: reason` or the reason alone.
    public var description: String { index.map { "index \($0): \(reason)" } ?? reason }
}

/// What an audit established.
public struct AuditReport: Sendable {
    /// Entries replayed and verified.
    public var treeSize: UInt64
    /// Root hash recomputed from the entries, equal to the latest checkpoint's.
    public var root: [UInt8]
    /// The verified latest checkpoint note.
    public var checkpoint: String
    /// The log key the checkpoint was verified with.
    public var logKey: String
    /// Whether that key was pinned by the caller (rather than taken from the genesis entry).
    public var logKeyPinned: Bool
    /// Signed checkpoints checked against the replayed tree: all of them, for a database and for a daemon that
    /// serves them; the latest alone otherwise.
    public var checkpointsChecked: Int
    /// Registered keys at the end of the log.
    public var registeredKeys: Int
    /// Size of the earlier checkpoint shown to be a prefix, if one was given.
    public var consistentWith: UInt64?
    /// The size the database had grown to when its derived tables were to be compared, when a running daemon
    /// appended during the audit: those tables then hold later events' state and were not compared (the log
    /// up to `treeSize` was checked all the same). Nil when they were compared or there are none to compare.
    public var grewDuringAudit: UInt64?
}

/// Replays a log from its first entry and checks everything an outsider can: every signature, leaf hash,
/// chain hash and rule; the Merkle root against the signed checkpoint; consistency with an earlier
/// checkpoint; and, for a database file, every stored tree node and checkpoint. Streams in chunks, so
/// memory does not grow with the log.
public struct LogAuditor: Sendable {
    let source: any AuditSource
    let options: AuditOptions

    /// An auditor of `source`.
    public init(source: any AuditSource, options: AuditOptions = AuditOptions()) {
        self.source = source
        self.options = options
    }

    /// Chunks fetched and checked ahead of the fold (see `run`).
    static let chunksAhead = 2

    /// The next chunk of entries from `start`, asking the source until it has them all (or the rows show a gap,
    /// which the fold reports); from a database, with what else its rows hold that the fold checks (their event
    /// ids and storage classes, `StoredColumns`), read in the same pass over the rows.
    private func fetch(from start: UInt64, size: UInt64) async throws -> (entries: [LogEntry], stored: StoredColumns?) {
        var chunk: [LogEntry] = []
        var columns = StoredColumns()
        let want = Int(min(UInt64(chunkLength(at: start)), size - start))
        while chunk.count < want {
            let from = start + UInt64(chunk.count)
            let page: [LogEntry]
            if let store = source.store {
                let read = try store.read { try $0.entriesWithStoredColumns(start: from, limit: want - chunk.count) }
                page = read.entries
                columns.append(contentsOf: read.columns)
            } else {
                page = try await source.entries(start: from, limit: want - chunk.count)
            }
            guard !page.isEmpty else {
                throw AuditFailure(from, "the log ends at \(from) entries but its checkpoint signs \(size): truncated")
            }
            chunk += page
            // Rows missing within the page: the fold names the first gap, where asking on would end in one later.
            if page[page.count - 1].index != from + UInt64(page.count) - 1 { break }
        }
        return (chunk, source.store == nil ? nil : columns)
    }

    /// Entries in the chunk that starts at `start`. The first is short: it is checked before any key is known, so
    /// the fold verifies its signatures itself, on one core; the genesis and the first registrations it holds
    /// are what the chunks after it are checked with.
    private func chunkLength(at start: UInt64) -> Int { start == 0 ? min(256, options.chunkSize) : options.chunkSize }

    /// Runs the audit; throws `AuditFailure` at the first problem.
    public func run() async throws -> AuditReport {
        let note = try await source.latestCheckpoint()
        guard let first = try await source.entries(start: 0, limit: 1).first else {
            throw AuditFailure(0, "the log has no genesis entry")
        }
        let verifier: NoteVerifier
        if let pinned = options.logKey {
            verifier = pinned
        } else {
            let genesis: Genesis
            do { genesis = try Genesis(try EventEnvelope.parse(first.leafInput)) } catch {
                throw AuditFailure(0, "genesis entry is malformed: \(error)")
            }
            do { verifier = try NoteVerifier(encoded: genesis.logKey) } catch {
                throw AuditFailure(0, "genesis names an invalid log key: \(error)")
            }
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(note, verifier: verifier) } catch {
            throw AuditFailure(nil, "latest checkpoint: \(error)")
        }
        var since: Checkpoint?
        if let text = options.since {
            do { since = try Checkpoint.open(text, verifier: verifier) } catch {
                throw AuditFailure(nil, "earlier checkpoint (--since): \(error)")
            }
            if since!.size > checkpoint.size {
                throw AuditFailure(checkpoint.size, "the log has \(checkpoint.size) entries but an earlier checkpoint signed \(since!.size): it was truncated or forked")
            }
        }

        var replay = try Replay(verifier: verifier, store: source.store, since: since, rules: options.rules,
                                custodyRules: options.custodyRules)
        let size = checkpoint.size
        // A pipeline: while this task folds chunk k (one core), chunks k+1 and k+2 are fetched and checked (each
        // envelope shown canonical and read, its signature and leaf hash computed; see `Replay.check`) on the
        // other cores. Two chunks ahead, not one: a fold that runs long (a chunk of events that touch many
        // parcels) or a fetch (serial, before its chunk's checks) then no longer leaves a core idle. A chunk
        // is checked with the keys known when it was started; an event signed by a key registered since is
        // verified by the fold itself.
        let custodyRules = options.custodyRules
        let remote = source.store == nil
        typealias Fetched = (chunk: [LogEntry], stored: StoredColumns?, checked: [Replay.Checked],
                             served: [(size: UInt64, note: String)]?)
        func checkNext(from start: UInt64, keys: [String: [UInt8]]) -> Task<Fetched, any Error> {
            Task {
                let (chunk, stored) = try await fetch(from: start, size: size)
                // The checkpoints that end the chunk's batches: a database's are read by the fold itself.
                async let served = remote ? source.checkpoints(after: start, through: start + UInt64(chunk.count)) : nil
                let checked = await Replay.check(chunk, keys: keys, custodyRules: custodyRules)
                return (chunk, stored, checked, try await served)
            }
        }
        var next: UInt64 = 0
        /// The first entry not yet handed to a checking task.
        var started: UInt64 = 0
        var checking: [Task<Fetched, any Error>] = []
        /// Whether the source serves its checkpoints (a daemon older than `GET /v1/checkpoints` does not).
        var serving: Bool?
        func startChecks() {
            // One chunk ahead until the first fold: the keys it registers (genesis, the first participants) are
            // what the chunks after it are checked with; a chunk started before them leaves its signatures to
            // the fold, one core.
            let ahead = next == 0 ? 1 : Self.chunksAhead
            while checking.count < ahead, started < size {
                checking.append(checkNext(from: started, keys: replay.keys))
                started = min(size, started + UInt64(chunkLength(at: started)))
            }
        }
        startChecks()
        while !checking.isEmpty {
            let (chunk, stored, checked, served) = try await checking.removeFirst().value
            startChecks()
            if remote {
                if serving == true && served == nil {
                    for task in checking { task.cancel() }
                    throw AuditFailure(nil, "the server stopped serving its checkpoints during the audit")
                }
                serving = serving ?? (served != nil)
            }
            do {
                // A server that served none for the first chunk is audited as one that serves none, to the end:
                // its later checkpoints (a daemon upgraded during the audit) chain to ones that were never read.
                try replay.fold(chunk, stored: stored, checked: checked, served: serving == true ? served : nil,
                                expectedStart: next)
            } catch {
                for task in checking { task.cancel() }
                throw error
            }
            next += UInt64(chunk.count)
            options.progress?(next, size)
        }
        if size == 0 {
            throw AuditFailure(nil, "the latest checkpoint is for an empty log")
        }
        let root = replay.frontier.root
        guard root == checkpoint.root else {
            throw AuditFailure(size - 1, "the Merkle root of the \(size) entries differs from the latest signed checkpoint")
        }
        // A server that serves its checkpoints must serve the latest among them: otherwise the chain of
        // previous sizes could stop short of it, and the entries after the last one served be bound by none.
        if serving == true && replay.lastCheckpointSize != size {
            throw AuditFailure(nil, "the server's checkpoints end at size \(replay.lastCheckpointSize), not at its latest checkpoint's \(size)")
        }
        // A server that serves no earlier checkpoint: the latest binds the time of the last entry, at least.
        let signed: Int64?
        do { signed = try checkpoint.loggedAtMillis } catch { throw AuditFailure(nil, "the latest checkpoint: \(error)") }
        if let signed, replay.lastLoggedAt != signed {
            throw AuditFailure(size - 1, "loggedAt differs from the time the latest checkpoint signs, \(RFC3339.format(millis: signed))")
        }
        var grew: UInt64?
        if let store = source.store {
            grew = try replay.finishDeepChecks(store: store, size: size)
        }
        if let since, since.size < size, let proof = try await source.consistencyProof(first: since.size, second: size) {
            do {
                try Merkle.verifyConsistency(first: since.size, second: size, firstRoot: since.root,
                                             secondRoot: checkpoint.root, proof: proof)
            } catch {
                throw AuditFailure(nil, "the served consistency proof from \(since.size) to \(size) is wrong: \(error)")
            }
        }
        let genesisKey = try replay.scratch.tables.meta("logKey")
        if let pinned = options.logKey, genesisKey != pinned.encoded {
            throw AuditFailure(0, "the genesis entry names log key \(genesisKey ?? "none"), not the pinned \(pinned.encoded)")
        }
        return AuditReport(treeSize: size, root: root, checkpoint: note, logKey: verifier.encoded,
                           logKeyPinned: options.logKey != nil,
                           // A database's stored checkpoints, and a server's served ones, include the latest.
                           checkpointsChecked: remote && serving != true ? 1 : replay.checkpointsChecked,
                           registeredKeys: replay.keys.count, consistentWith: since?.size, grewDuringAudit: grew)
    }
}

/// The sequential fold of an audit, fed chunk by chunk.
struct Replay {
    let verifier: NoteVerifier
    let store: LogStore?
    let since: Checkpoint?
    let rules: CustodyRules
    /// False: only genesis and participant events are evaluated, for the keys (see `AuditOptions.custodyRules`).
    let custodyRules: Bool
    let scratch: ScratchDomain
    var keys: [String: [UInt8]] = [:]
    var frontier = MerkleFrontier()
    var chain = HashChain.start
    var lastLoggedAt: Int64 = .min
    /// The size of the last stored checkpoint checked: the next one's `previous-size` must name it, and the
    /// entries since (one batch of the daemon's) start at that index.
    var lastCheckpointSize: UInt64 = 0
    /// The `loggedAt` of the batch's first entry, and the first index of the batch with another. A checkpoint
    /// that signs its batch's time (`Checkpoint.loggedAtMillis`) must match them all.
    var batchLoggedAt: Int64 = 0
    var batchDiffersAt: UInt64?
    var checkpointsChecked = 0
    let seen: EventIDSet
    /// The replayed state the rules read: hot entities in memory in front of the scratch tables.
    let domain = DomainCache(capacity: 16_384)
    var pendingEntries = 0

    init(verifier: NoteVerifier, store: LogStore?, since: Checkpoint?, rules: CustodyRules, custodyRules: Bool = true) throws {
        self.verifier = verifier
        self.store = store
        self.since = since
        self.rules = rules
        self.custodyRules = custodyRules
        seen = try EventIDSet()
        scratch = try ScratchDomain()
        domain.begin(scratch.tables)
    }

    /// What the parallel stage found out about one entry: its envelope's fields, or why its stored bytes are
    /// not a valid envelope in canonical form. (An enum of one class: a pointer, one object per entry.)
    enum Checked: Sendable {
        case event(Event)
        case unreadable(String)

        var event: Event? { if case .event(let event) = self { event } else { nil } }
        var error: String? { if case .unreadable(let reason) = self { reason } else { nil } }
    }

    /// The fields of a stored envelope that the fold uses, its leaf hash and its signature's check. A class:
    /// the fold takes it out once, and a copy of a struct would retain and release each field.
    final class Event: Sendable {
        /// The buffer the canonical body lies in (the stored bytes, shared, not copied), and where.
        let bodyBuffer: [UInt8]
        let bodyRange: Range<Int>
        /// RFC 9162 leaf hash of the stored bytes.
        let leafHash: SHA256.Digest
        /// SHA-256 of `canonicalBody`.
        let eventID: SHA256.Digest
        let keyID: String
        let signature: [UInt8]
        /// The signature checked under the key `keyID` named when the chunk was started, or left to the fold.
        let check: SignatureCheck
        let type: String
        let signer: String
        /// `occurredAt` in milliseconds.
        let occurredAt: Int64
        /// The body, when the fold evaluates the event (see `Replay.check`).
        let body: BodyReader?
        /// The rules' stateless first step, taken off the fold when it re-runs the custody rules.
        let catalogued: CatalogueVerdict?

        /// The signed bytes.
        var canonicalBody: ArraySlice<UInt8> { bodyBuffer[bodyRange] }

        init(bodyBuffer: [UInt8], bodyRange: Range<Int>, leafHash: SHA256.Digest, eventID: SHA256.Digest, keyID: String,
             signature: [UInt8], check: SignatureCheck, type: String, signer: String, occurredAt: Int64, body: BodyReader?,
             custodyRules: Bool) {
            self.bodyBuffer = bodyBuffer
            self.bodyRange = bodyRange
            self.leafHash = leafHash
            self.eventID = eventID
            self.keyID = keyID
            self.signature = signature
            self.check = check
            self.type = type
            self.signer = signer
            self.occurredAt = occurredAt
            self.body = body
            catalogued = custodyRules ? body.map { CustodyRules.catalogue(type: type, body: $0) } : nil
        }
    }

    /// The signature checked under the key `keyID` names in `keys`, or `.deferred` (left to the fold) when the
    /// key is not among them.
    static func checkSignature(_ signature: [UInt8], of body: ArraySlice<UInt8>, keyID: String,
                               keys: [String: [UInt8]]) -> SignatureCheck {
        guard let raw = keys[keyID] else { return .deferred }
        return ((try? PublicKey(bytes: raw))?.isValidSignature(signature, for: body) ?? false) ? .valid : .invalid
    }

    /// Parses (or, for the plain canonical envelopes a log holds, scans), hashes and checks the signatures of a
    /// chunk on all cores, with `keys` (key id to public key) as known so far; an entry whose key is not
    /// among them is left to the fold. The body is read only for events the fold evaluates: all of them
    /// with `custodyRules`, otherwise those that register keys; and in place, without a tree of values,
    /// when the scanner has proved it plain canonical.
    static func check(_ chunk: [LogEntry], keys: [String: [UInt8]], custodyRules: Bool) async -> [Checked] {
        await ParallelVerifier.mapAsync(chunk) { entry -> Checked in
            let leafHash = Merkle.leafDigest(entry.leafInput)
            // The envelopes a log holds are read in place, the body checked and hashed where it lies in the
            // stored bytes; anything else is parsed, and must then still be exactly the canonical form.
            if let stored = StoredEnvelope(entry.leafInput) {
                let evaluated = custodyRules || CustodyRules.registersKeys(index: entry.index, type: stored.type)
                let body = entry.leafInput[stored.bodyRange]
                return .event(Event(bodyBuffer: entry.leafInput, bodyRange: stored.bodyRange, leafHash: leafHash,
                                    eventID: SHA256.Digest(hashing: body), keyID: stored.keyID, signature: stored.signature,
                                    check: checkSignature(stored.signature, of: body, keyID: stored.keyID, keys: keys),
                                    type: stored.type, signer: stored.signer, occurredAt: stored.occurredAt,
                                    body: evaluated ? BodyReader(stored.body) : nil, custodyRules: custodyRules))
            }
            let envelope: EventEnvelope
            do { envelope = try EventEnvelope.parse(entry.leafInput) } catch {
                return .unreadable("stored bytes are not a valid envelope: \(error)")
            }
            guard envelope.leafInput == entry.leafInput else { return .unreadable("stored bytes are not in canonical form") }
            let evaluated = custodyRules || CustodyRules.registersKeys(index: entry.index, type: envelope.type)
            return .event(Event(bodyBuffer: envelope.canonicalBody, bodyRange: envelope.canonicalBody.indices, leafHash: leafHash,
                                eventID: SHA256.Digest(bytes: envelope.eventID), keyID: envelope.keyID,
                                signature: envelope.signature,
                                check: checkSignature(envelope.signature, of: envelope.canonicalBody[...], keyID: envelope.keyID,
                                                      keys: keys),
                                type: envelope.type, signer: envelope.signer, occurredAt: envelope.occurredAtMillis,
                                body: evaluated ? envelope.bodyReader : nil, custodyRules: custodyRules))
        }
    }

    /// The sequential part: indexes, hashes against the chain and the tree, stored columns, repeats, rules
    /// and state, checkpoints.
    /// `stored` are what else a database's rows of the chunk hold (their event ids, their columns' storage
    /// classes), read with them; `served` are the checkpoints of a source without a store for the chunk's sizes,
    /// `expectedStart + 1 ... expectedStart + chunk.count`; a store's are read here.
    mutating func fold(_ chunk: [LogEntry], stored: StoredColumns?, checked parsed: [Checked],
                       served: [(size: UInt64, note: String)]? = nil, expectedStart: UInt64) throws {
        precondition(store == nil || stored?.count == chunk.count, "a database's chunk comes with its stored columns")
        var checkpoints: [(size: UInt64, note: String)] = []
        // Tree nodes the chunk completes, by level: the node of level L and index i is completed when the
        // tree grows to (i + 1) << L leaves, so this chunk's are those with that size in (start, end].
        // Each level's as an array from its first index (`storedNodes[level].first`); level 0, the leaves, is empty.
        var storedNodes: [(first: UInt64, hashes: [[UInt8]?])] = []
        // Sizes whose stored checkpoint is not text (see `checkpointSizesNotText`).
        var mistypedCheckpoints: Set<UInt64> = []
        if let store {
            let last = expectedStart + UInt64(chunk.count)
            (checkpoints, storedNodes, mistypedCheckpoints) = try store.read { txn in
                var nodes: [(first: UInt64, hashes: [[UInt8]?])] = [(0, [])]
                for level in 1..<63 where (last >> UInt64(level)) > 0 {
                    let from = (expectedStart + (1 << UInt64(level))) >> UInt64(level) - 1
                    let through = (last >> UInt64(level)) - 1
                    nodes.append((from, through >= from ? try txn.storedNodes(level: level, from: from, through: through) : []))
                }
                return (try txn.checkpoints(after: expectedStart, through: last), nodes,
                        try txn.checkpointSizesNotText(after: expectedStart, through: last))
            }
        } else if let served {
            // Whatever the source (`RemoteAuditSource` passes a server's list as it came): in increasing size, each
            // within the chunk, or the fold below would not meet them all.
            var after = expectedStart
            for checkpoint in served {
                guard checkpoint.size > after, checkpoint.size <= expectedStart + UInt64(chunk.count) else {
                    throw AuditFailure(nil, "the source listed a checkpoint of size \(checkpoint.size) among those of sizes \(after + 1)...\(expectedStart + UInt64(chunk.count))")
                }
                after = checkpoint.size
            }
            checkpoints = served
        }
        // The chunk's event keys go into the set of seen events together, before the fold; a repeat is
        // reported when the fold reaches it, so that an earlier problem is still reported first.
        let repeated = try seen.insert(parsed.enumerated().map { offset, p in
            p.event.map { (id: $0.eventID, occurredAt: $0.occurredAt, index: expectedStart + UInt64(offset)) }
        })
        var nextCheckpoint = 0
        for (offset, entry) in chunk.enumerated() {
            let index = expectedStart + UInt64(offset)
            guard entry.index == index else {
                throw AuditFailure(index, "expected entry \(index) but the log gave \(entry.index): rows deleted or reordered")
            }
            if let problem = stored?.problem(at: offset) { throw AuditFailure(index, problem) }
            let event: Event
            switch parsed[offset] {
            case .event(let e): event = e
            case .unreadable(let reason): throw AuditFailure(index, reason)
            }
            guard event.leafHash.matches(entry.leafHash) else { throw AuditFailure(index, "stored leaf hash does not match the entry's bytes") }
            // The stored hash, now known equal to the computed one, goes into the chain and the tree.
            let leafHash = entry.leafHash
            HashChain.advance(&chain, leafHash: leafHash)
            guard SHA256.same(chain, entry.chainHash) else {
                throw AuditFailure(index, "stored chain hash does not match the chain of entries 0...\(index)")
            }
            guard entry.loggedAtMillis >= lastLoggedAt else { throw AuditFailure(index, "loggedAt goes backwards") }
            lastLoggedAt = entry.loggedAtMillis
            if index == lastCheckpointSize {
                batchLoggedAt = entry.loggedAtMillis
            } else if batchDiffersAt == nil && entry.loggedAtMillis != batchLoggedAt {
                batchDiffersAt = index
            }
            if let stored, !stored.eventIDMatches(event.eventID, at: offset) {
                throw AuditFailure(index, "stored event id does not match the entry's body")
            }
            if let repeated, repeated.index == index {
                throw AuditFailure(index, "event \(Hex.encode(event.eventID.bytes)) was already logged at index \(repeated.earlier)")
            }
            let facts = EventFacts(index: index, loggedAt: entry.loggedAtMillis, type: event.type, signer: event.signer,
                                   keyID: event.keyID, occurredAt: event.occurredAt, body: event.body ?? BodyReader(JSONObject()))
            do {
                let key = try rules.signingKey(for: facts, state: domain)
                if event.check == .invalid || (event.check == .deferred && !key.isValidSignature(event.signature, for: event.canonicalBody)) {
                    throw LedgerError(.badSignature, "the signature does not verify under key \(event.keyID)")
                }
                // Without the custody rules, as the daemon's own rules-off mode: genesis and participant events
                // still change the state, so that keys are known.
                let changes = custodyRules || CustodyRules.registersKeys(facts)
                    ? try rules.evaluate(facts, state: domain, catalogued: event.catalogued) : []
                try domain.apply(changes)
                for case .key(let key) in changes { self.keys[key.keyID] = key.publicKey }
            } catch let error as LedgerError {
                throw AuditFailure(index, "an event the rules refuse was logged: \(error)")
            } catch let violation as RuleViolation {
                throw AuditFailure(index, "an event the rules refuse was logged: \(LedgerError(violation))")
            }
            if store == nil {
                frontier.append(leafHash: leafHash) { _ in }
            } else {
                try frontier.append(leafHash: leafHash) { node in
                    let level = node.level < storedNodes.count ? storedNodes[node.level] : (first: 0, hashes: [])
                    // Wrapping: an index below the level's first is a huge offset, out of range like one past its last.
                    let offset = node.index &- level.first
                    let stored = offset < UInt64(level.hashes.count) ? level.hashes[Int(offset)] : nil
                    guard let stored, SHA256.same(stored, node.hash) else {
                        throw AuditFailure(index, "stored tree node level \(node.level) index \(node.index) is \(stored == nil ? "missing" : "wrong")")
                    }
                }
            }
            while nextCheckpoint < checkpoints.count && checkpoints[nextCheckpoint].size == frontier.size {
                try check(note: checkpoints[nextCheckpoint].note, index: index)
                // After the note's own checks, which may name an earlier entry (a batch's time).
                if mistypedCheckpoints.contains(frontier.size) {
                    throw AuditFailure(index, "stored checkpoint for size \(frontier.size) is not text, as custodyd writes it: its storage class was changed")
                }
                nextCheckpoint += 1
            }
            if let since, since.size == frontier.size, since.root != frontier.root {
                throw AuditFailure(index, "the log's first \(since.size) entries do not match the earlier checkpoint: the log was rewritten")
            }
        }
        if nextCheckpoint < checkpoints.count {
            throw AuditFailure(checkpoints[nextCheckpoint].size - 1, "a \(checkpointSource) checkpoint does not match its tree size")
        }
        // Commit the scratch state now and then: an open transaction keeps its dirty pages in memory, so the
        // interval bounds replay memory (65,536 measured 177 MiB at 1M entries, over the 150 MiB budget).
        pendingEntries += chunk.count
        if pendingEntries >= 8_192 {
            try commitScratch()
        }
    }

    /// Commits the scratch database and the cache's view of it.
    mutating func commitScratch() throws {
        try domain.flush()
        domain.commit()
        try scratch.checkpoint()
        domain.begin(scratch.tables)
        pendingEntries = 0
    }

    /// "stored" for a database's checkpoints, "served" for a daemon's.
    private var checkpointSource: String { store == nil ? "served" : "stored" }

    private mutating func check(note: String, index: UInt64) throws {
        let cp: Checkpoint
        do { cp = try Checkpoint.open(note, verifier: verifier) } catch {
            throw AuditFailure(index, "\(checkpointSource) checkpoint for size \(index + 1): \(error)")
        }
        guard cp.size == frontier.size else {
            throw AuditFailure(index, store == nil
                ? "the server's checkpoint listed for size \(frontier.size) is the checkpoint for size \(cp.size)"
                : "the checkpoint row for size \(frontier.size) holds the checkpoint for size \(cp.size)")
        }
        guard cp.root == frontier.root else {
            throw AuditFailure(index, "\(checkpointSource) checkpoint for size \(cp.size) does not match the replayed tree")
        }
        let signed: Int64?, previous: UInt64?
        do { (signed, previous) = (try cp.loggedAtMillis, try cp.previousSize) } catch {
            throw AuditFailure(index, "\(checkpointSource) checkpoint for size \(cp.size): \(error)")
        }
        if let previous, previous != lastCheckpointSize {
            throw AuditFailure(index, "the checkpoint for size \(cp.size) was signed after the one for size \(previous), but the \(checkpointSource) checkpoint before it is for size \(lastCheckpointSize): "
                + (store == nil ? "the server withheld checkpoints, or they were deleted" : "checkpoint rows deleted"))
        }
        if let signed, let bad = batchDiffersAt ?? (batchLoggedAt == signed ? nil : lastCheckpointSize) {
            throw AuditFailure(bad, "loggedAt differs from the time the checkpoint for size \(cp.size) signs, \(RFC3339.format(millis: signed)): changed, or the checkpoints between were deleted")
        }
        lastCheckpointSize = cp.size
        batchDiffersAt = nil
        checkpointsChecked += 1
    }

    /// Checks that the database holds nothing beyond what the replay derived. The database may be a running
    /// daemon's, appending while the audit ran: rows beyond `size` are then fine when a later signed checkpoint
    /// covers them (its own audit checks them). Returns the size the log grew to when that kept the derived
    /// tables from being compared.
    mutating func finishDeepChecks(store: LogStore, size: UInt64) throws -> UInt64? {
        try commitScratch()
        // One snapshot: rows, nodes and event keys are written in the transaction that signs their checkpoint.
        let (newest, range, nodes, eventKeys) = try store.read { txn in
            if let object = try txn.triggersAndViews().first {
                throw AuditFailure(nil, "the database has a \(object), which custodyd never creates: it can change what is read or written")
            }
            if let mismatch = try txn.schemaVersionMismatch() { throw AuditFailure(nil, mismatch) }
            // The event-key index came with schema version 3; a file from before has none until it is migrated.
            if try txn.eventKeysDefinitionIntact() == false {
                throw AuditFailure(nil, "the database's event-key table is not defined as custodyd defines it, a WITHOUT ROWID table keyed by (occurred_ms, event_id): its primary key is what finds repeated events")
            }
            let stray = try txn.checkpointRowsBelowSizeOne()
            guard stray == 0 else { throw AuditFailure(nil, "the database has \(stray) checkpoint row(s) for sizes below 1") }
            return (try txn.latestCheckpoint(), try txn.entryIndexRange(), try txn.nodeCount(), try txn.hasEventKeys ? try txn.eventKeyCount() : nil)
        }
        // Its newest checkpoint row, which may be newer than the audited one (a running daemon), must hold a
        // checkpoint of the log for the size it is keyed by: it is what bounds the rows below.
        guard let newest else { throw AuditFailure(nil, "the database has no checkpoint rows") }
        let latest = newest.size
        do {
            let opened = try Checkpoint.open(newest.note, verifier: verifier)
            guard opened.size == latest else {
                throw AuditFailure(nil, "the database's checkpoint row for size \(latest) holds the checkpoint for size \(opened.size)")
            }
        } catch let error as NoteError {
            throw AuditFailure(nil, "the database's checkpoint row for size \(latest) holds no valid checkpoint: \(error)")
        }
        guard latest >= size else {
            throw AuditFailure(nil, "the database's latest checkpoint row is for size \(latest), below the latest checkpoint's \(size)")
        }
        // The fold read every index below `size`, in order; any other row is outside what a checkpoint signs.
        if let range, range.lowerBound < 0 || range.upperBound >= Int64(latest) {
            let stray = range.lowerBound < 0 ? range.lowerBound : range.upperBound
            throw AuditFailure(stray >= 0 ? UInt64(stray) : nil,
                               "the database has an entry row at index \(stray), outside the 0...\(latest - 1) its checkpoints sign: rows added by hand")
        }
        guard let range, range.upperBound == Int64(latest) - 1 else {
            let missing = range.map { UInt64($0.upperBound + 1) } ?? 0
            throw AuditFailure(missing, "the database's latest checkpoint signs \(latest) entries, but it has no entry row at index \(missing)")
        }
        if let eventKeys, eventKeys != latest {
            throw AuditFailure(nil, "the database's event-key index has \(eventKeys) rows for \(latest) entries")
        }
        let expectedNodes = latest - UInt64(latest.nonzeroBitCount)
        guard nodes == expectedNodes else {
            throw AuditFailure(nil, "the database has \(nodes) tree nodes, the tree of \(latest) entries needs \(expectedNodes)")
        }
        // Passes over a row per entry (the event keys, in two parts; the derived tables, parcels above all),
        // each up to seconds long on a large log, after the replay's last chunk: side by side, or a core idles.
        // The tables first, the longest.
        let keys = eventKeys == nil ? nil : try seen.committed()
        let tables = custodyRules ? try scratch.committed() : nil
        enum Part: Sendable { case tables, keys(Int) }
        let parts = [Part.tables] + (0..<(keys?.parts ?? 0)).map { Part.keys($0) }
        let found = ParallelVerifier.map(parts) { part -> Result<ScratchDomain.Comparison, any Error> in
            Result {
                switch part {
                case .keys(let n): return try keys?.matchesEventKeys(of: store, below: size, part: n) == false ? .differs("event_keys") : .same
                case .tables: return try tables?.compare(with: store, atSize: size) ?? .same
                }
            }
        }
        var grew: UInt64?
        // Reported in the order checked before the parts ran side by side: the event-key index, then the tables.
        for i in Array(parts.indices.dropFirst()) + [0] {
            let part = parts[i]
            switch try found[i].get() {
            case .same: break
            case .logGrew(let to): grew = to
            case .differs(let table):
                guard case .tables = part else { throw AuditFailure(nil, "the database's event-key index differs from the events' own times and ids") }
                throw AuditFailure(nil, "the database's \(table) table differs from the state the log's events derive")
            }
        }
        return grew
    }
}

/// Audits a local database file.
public struct DatabaseAuditSource: AuditSource {
    /// The store, opened read-only.
    public let store: LogStore?

    /// Opens `path` read-only.
    public init(path: String) throws { store = try LogStore(readOnlyPath: path) }

    /// The latest stored checkpoint.
    public func latestCheckpoint() async throws -> String {
        guard let latest = try store!.read({ try $0.latestCheckpoint() }) else {
            throw AuditFailure(nil, "the database has no signed checkpoint")
        }
        return latest.note
    }

    /// Entries from the file.
    public func entries(start: UInt64, limit: Int) async throws -> [LogEntry] {
        try store!.read { try $0.entries(start: start, limit: limit) }
    }

    /// The replay recomputes every root itself; no proofs needed.
    public func consistencyProof(first: UInt64, second: UInt64) async throws -> [[UInt8]]? { nil }
}
