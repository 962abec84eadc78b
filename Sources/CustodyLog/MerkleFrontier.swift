/// The right edge of a Merkle tree: the roots of the perfect subtrees that make up its leaves, one per
/// set bit of the size. Appending a leaf costs O(1) amortised hashes and yields the perfect subtrees it
/// completes, which a store persists so that proofs later cost O(log n) reads.
public struct MerkleFrontier: Sendable, Equatable {
    /// A completed perfect subtree: its level, position and hash.
    public struct Node: Sendable, Equatable {
        /// Height above the leaves (0 for a leaf).
        public let level: Int
        /// Position among the subtrees of that level.
        public let index: UInt64
        /// Its RFC 9162 hash.
        public let hash: [UInt8]
    }

    /// Number of leaves.
    public private(set) var size: UInt64
    /// Perfect subtree roots from the largest (leftmost) to the smallest.
    public private(set) var subtrees: [[UInt8]]

    /// The empty tree.
    public init() {
        size = 0
        subtrees = []
    }

    /// The frontier of the tree of `size` leaves, read from stored perfect nodes (O(log n) reads).
    public init(size: UInt64, reader: some MerkleNodeReader) throws {
        self.size = size
        subtrees = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
            subtrees.append(try reader.node(level: level, index: start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
    }

    /// Appends a leaf hash; returns the perfect subtrees of level ≥ 1 that it completes.
    @discardableResult
    public mutating func append(leafHash: [UInt8]) -> [Node] {
        var completed: [Node] = []
        append(leafHash: leafHash) { completed.append($0) }
        return completed
    }

    /// Appends a leaf hash and hands each perfect subtree of level ≥ 1 that it completes to `completed`,
    /// lowest first, without collecting them: an audit appends a leaf for every entry it replays. If
    /// `completed` throws, the frontier is left as it was.
    public mutating func append(leafHash: [UInt8], _ completed: (Node) throws -> Void) rethrows {
        var carry = leafHash
        var level = 0
        // Each trailing one-bit of the old size is a subtree of that level waiting for a right sibling.
        while size & (1 << UInt64(level)) != 0 {
            carry = Merkle.nodeHash(subtrees[subtrees.count - 1 - level], carry)
            level += 1
            try completed(Node(level: level, index: size >> UInt64(level), hash: carry))
        }
        subtrees.removeLast(level)
        subtrees.append(carry)
        size += 1
    }

    /// The root hash of the current tree.
    public var root: [UInt8] {
        guard var acc = subtrees.last else { return Merkle.emptyRoot }
        for s in subtrees.dropLast().reversed() { acc = Merkle.nodeHash(s, acc) }
        return acc
    }
}
