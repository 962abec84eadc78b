import CustodyCrypto
import CustodyLog
import CustodyStore
import Foundation
import Logging

/// Keeps a `ProjectionStore` in step with a log: folds entries in index order, in batches, each batch one
/// transaction, never skipping an index. The daemon runs it behind the sequencer (reads wait for it to catch
/// up to the tree size they ask about); an auditor runs it over the entries it replays.
public final class Projector: @unchecked Sendable {
    /// Where the records live.
    public let store: ProjectionStore
    /// Entries per transaction while catching up: bounds memory, and a crash loses at most one batch of
    /// derived work.
    public let batchSize: Int
    private let lock = NSLock()
    private let logger: Logger

    /// A projector over `store`.
    public init(store: ProjectionStore, batchSize: Int = 2_000, logger: Logger = Logger(label: "custody.projections")) {
        self.store = store
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Folds entries `appliedSize..<size`, fetched in batches by `entries(start, limit)`. If the records were
    /// built from a different log (the last applied leaf hash differs from the log's), they are dropped and
    /// rebuilt from index 0. Safe to call from several threads: one catch-up runs at a time.
    public func catchUp(to size: UInt64, entries: (UInt64, Int) throws -> [LogEntry]) throws {
        try catchUp(to: size, entries: entries, shouldStop: { false })
    }

    /// As `catchUp(to:entries:)`, checking `shouldStop` between batches so a long rebuild can be interrupted
    /// (at shutdown); what was folded so far is kept and the next catch-up resumes from there.
    public func catchUp(to size: UInt64, entries: (UInt64, Int) throws -> [LogEntry], shouldStop: () -> Bool) throws {
        lock.lock()
        defer { lock.unlock() }
        var applied = try store.appliedSize()
        let storedVersion = try store.foldVersion()
        if storedVersion != Fold.version {
            if applied > 0 {
                logger.notice("projections were built by another version of the fold; rebuilding",
                              metadata: ["stored": "\(storedVersion)", "current": "\(Fold.version)"])
            }
            try store.reset(foldVersion: Fold.version)
            applied = 0
        }
        if applied > 0 {
            let stored = try store.read { try $0.lastLeafHash }
            let logged = applied <= size ? try entries(applied - 1, 1).first?.leafHash : nil
            if logged != stored {
                logger.warning("projections do not match the log; rebuilding", metadata: ["appliedSize": "\(applied)", "treeSize": "\(size)"])
                try store.reset()
                applied = 0
            }
        }
        while applied < size && !shouldStop() {
            let batch = try entries(applied, Int(min(UInt64(batchSize), size - applied)))
            guard let first = batch.first, first.index == applied else {
                throw ProjectionError("the log returned no entry at index \(applied)")
            }
            try applyLocked(batch)
            applied += UInt64(batch.count)
        }
    }

    /// Folds `batch`, which must start at the applied size and be contiguous, in one transaction.
    public func apply(_ batch: [LogEntry]) throws {
        lock.lock()
        defer { lock.unlock() }
        try applyLocked(batch)
    }

    private func applyLocked(_ batch: [LogEntry]) throws {
        guard let last = batch.last else { return }
        if try store.foldVersion() != Fold.version {
            guard try store.appliedSize() == 0 else {
                throw ProjectionError("the projections were built by fold version \(try store.foldVersion()), this is \(Fold.version): rebuild them")
            }
            try store.reset(foldVersion: Fold.version)
        }
        let inputs = try batch.map { try FoldInput(entry: $0) }
        try store.write { w in
            let expected = try w.appliedSize
            for (offset, entry) in batch.enumerated() where entry.index != expected + UInt64(offset) {
                throw ProjectionError("entry \(entry.index) arrived where \(expected + UInt64(offset)) was due: projections never skip an index")
            }
            let fold = Fold(w: w)
            for input in inputs { try fold.apply(input) }
            try w.setApplied(size: last.index + 1, lastLeafHash: last.leafHash)
        }
    }
}

/// A digest of every projection record as of a tree size: SHA-256 over the records in (kind, key, from)
/// order, each length-prefixed. Equal digests mean byte-identical projections.
public enum ProjectionDigest {
    /// The digest of `store`'s records as of `size`, and how many records it covers.
    public static func compute(_ store: ProjectionStore, asOf size: UInt64) throws -> (digest: [UInt8], records: Int) {
        var hasher = SHA256.Hasher()
        var count = 0
        try store.read { r in
            try r.forEachRecord(asOf: size) { record in
                for part in [Array(record.kind.utf8), Array(record.key.utf8), Array(String(record.from).utf8), record.body] {
                    var n = UInt32(part.count).bigEndian
                    withUnsafeBytes(of: &n) { hasher.update(Array($0)) }
                    hasher.update(part)
                }
                count += 1
            }
        }
        return (hasher.finalize(), count)
    }
}
