import CustodyCrypto
import CustodyLog

/// The tree of one committed batch, as much of it as the receipts of the batch's new leaves need: the old
/// tree's frontier (the perfect subtrees left of the batch), every leaf and perfect subtree the batch added,
/// and the hashes of the new tree's right edge. Every node an inclusion proof of a new leaf names is one of
/// these (a sibling left of the batch's first leaf whose parent contains a new leaf is a whole frontier
/// subtree), so the proofs are built without reading the store and without hashing, off the sequencer
/// thread, by the tasks that wait for the batch. Hashes are kept in base64, encoded once per node rather
/// than once per proof that names them. Immutable once built.
final class BatchTree: Sendable {
    /// Tree size before the batch.
    let oldSize: UInt64
    /// Tree size after it: the size of the batch's checkpoint.
    let size: UInt64
    /// Base64 hashes of perfect subtrees, by `BatchTree.nodeID(level:index:)`.
    private let nodes: [UInt64: String]
    /// Base64 of MTH(D[lo:size]) for each start `lo` of the new tree's right edge.
    private let edge: [UInt64: String]

    /// Node id of the perfect subtree at `level`, position `index`.
    @inline(__always)
    static func nodeID(level: Int, index: UInt64) -> UInt64 { UInt64(level) << 56 | index }

    fileprivate init(oldSize: UInt64, size: UInt64, nodes: [UInt64: String], edge: [UInt64: String]) {
        self.oldSize = oldSize
        self.size = size
        self.nodes = nodes
        self.edge = edge
    }

    /// Base64 leaf hash of a leaf of the batch.
    func leafHash(_ index: UInt64) -> String? { nodes[Self.nodeID(level: 0, index: index)] }

    /// RFC 9162 inclusion path (leaf first) of leaf `m` in the tree of `size` leaves, in base64; nil if a
    /// node is not held here (never for a leaf of the batch).
    func auditPath(_ m: UInt64) -> [String]? {
        guard m < size else { return nil }
        var topDown: [String] = []
        topDown.reserveCapacity(64 - size.leadingZeroBitCount)
        var lo: UInt64 = 0, hi = size
        while hi - lo > 1 {
            let n = hi - lo
            let k: UInt64 = 1 << (63 - (n - 1).leadingZeroBitCount)
            let sibling: String?
            if m < lo + k {
                sibling = hash(lo + k, hi)
                hi = lo + k
            } else {
                sibling = hash(lo, lo + k)
                lo += k
            }
            guard let sibling else { return nil }
            topDown.append(sibling)
        }
        return topDown.reversed()
    }

    private func hash(_ lo: UInt64, _ hi: UInt64) -> String? {
        let n = hi - lo
        if n & (n - 1) == 0 && lo % n == 0 {
            let level = n.trailingZeroBitCount
            return nodes[Self.nodeID(level: level, index: lo >> UInt64(level))]
        }
        return hi == size ? edge[lo] : nil
    }

    /// Collects a batch's nodes on the sequencer thread as it appends.
    struct Builder {
        private let oldSize: UInt64
        private var nodes: [UInt64: String] = [:]

        /// Starts from the frontier before the batch.
        init(frontier: MerkleFrontier, expected: Int) {
            oldSize = frontier.size
            nodes.reserveCapacity(expected * 2 + 64)
            var start: UInt64 = 0
            var i = 0
            for level in stride(from: 63, through: 0, by: -1) where frontier.size & (1 << UInt64(level)) != 0 {
                nodes[BatchTree.nodeID(level: level, index: start >> UInt64(level))] = Base64.encode(frontier.subtrees[i])
                start += 1 << UInt64(level)
                i += 1
            }
        }

        /// A new leaf; returns its base64 hash.
        mutating func add(leaf index: UInt64, hash: [UInt8]) -> String {
            let text = Base64.encode(hash)
            nodes[BatchTree.nodeID(level: 0, index: index)] = text
            return text
        }

        /// Perfect subtrees completed by a leaf.
        mutating func add(_ completed: [MerkleFrontier.Node]) {
            for node in completed { nodes[BatchTree.nodeID(level: node.level, index: node.index)] = Base64.encode(node.hash) }
        }

        /// The finished tree, with the right edge of `frontier` (the frontier after the batch).
        func build(frontier: MerkleFrontier) -> BatchTree {
            var edge: [UInt64: String] = [:]
            var starts: [UInt64] = []
            var start: UInt64 = 0
            for level in stride(from: 63, through: 0, by: -1) where frontier.size & (1 << UInt64(level)) != 0 {
                starts.append(start)
                start += 1 << UInt64(level)
            }
            if var acc = frontier.subtrees.last {
                for i in stride(from: frontier.subtrees.count - 2, through: 0, by: -1) {
                    acc = Merkle.nodeHash(frontier.subtrees[i], acc)
                    edge[starts[i]] = Base64.encode(acc)
                }
            }
            return BatchTree(oldSize: oldSize, size: frontier.size, nodes: nodes, edge: edge)
        }
    }
}

/// What the sequencer decided for one submitted envelope. Receipts are assembled from it by the submitting
/// task once the batch is committed.
enum SequencedItem: Sendable {
    /// Refused (nothing stored), or the batch failed.
    case refused(LedgerError)
    /// A leaf of this batch: new, or a repeat within the batch of an event appended earlier in it.
    case appended(index: UInt64, chainHash: String, duplicate: Bool)
    /// A repeat of an event logged before this batch, with its receipt built in the transaction.
    case receipt(Receipt)
}

/// A committed (or failed) batch as seen by one group of submitters.
struct BatchOutcome: Sendable {
    var items: [SequencedItem]
    /// The batch's tree; nil when nothing was appended or the batch failed.
    var tree: BatchTree?
    /// The batch's signed checkpoint note.
    var checkpoint: String
    /// `loggedAt` of every new entry of the batch, formatted.
    var loggedAt: String

    /// Receipts for `envelopes` (the group, in order). Proofs come from the batch's tree; should a node be
    /// missing there, from the store (the batch is committed, so its tree is readable).
    func receipts(for envelopes: [EventEnvelope], ledger: Ledger) -> [Result<Receipt, LedgerError>] {
        items.indices.map { i in
            switch items[i] {
            case .refused(let error): return .failure(error)
            case .receipt(let receipt): return .success(receipt)
            case .appended(let index, let chainHash, let duplicate):
                guard let tree, let leafHash = tree.leafHash(index) else {
                    return .failure(LedgerError(.storageFailure, "the receipt of entry \(index) could not be built"))
                }
                let proof: InclusionProof
                if let path = tree.auditPath(index) {
                    proof = InclusionProof(leafIndex: index, treeSize: tree.size, auditPath: path)
                } else {
                    do { proof = try ledger.inclusionProof(index: index, size: tree.size) } catch {
                        return .failure(LedgerError(.storageFailure, "the proof of entry \(index) could not be built: \(error)"))
                    }
                }
                return .success(Receipt(index: index, eventId: envelopes[i].eventIDHex, leafHash: leafHash, chainHash: chainHash,
                                        loggedAt: loggedAt, duplicate: duplicate, checkpoint: checkpoint, inclusionProof: proof))
            }
        }
    }
}
