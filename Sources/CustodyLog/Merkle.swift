import CustodyCrypto

/// Reads the hash of a perfect subtree: the RFC 9162 hash of leaves `[index << level, (index + 1) << level)`.
/// Level 0 is the leaf hash itself. Stores implement this with one indexed read, so every tree
/// operation below costs O(log n) reads.
public protocol MerkleNodeReader {
    /// The hash of the perfect subtree at `level` and position `index`.
    func node(level: Int, index: UInt64) throws -> [UInt8]
    /// A remembered hash of the (possibly imperfect) subtree `[lo, hi)`, if this reader keeps them. Proofs for
    /// many leaves of one tree size share these, so a batch's receipts hash each only once.
    func rememberedSubtree(_ lo: UInt64, _ hi: UInt64) -> [UInt8]?
    /// Offers a computed subtree hash for `rememberedSubtree`.
    func remember(subtree lo: UInt64, _ hi: UInt64, hash: [UInt8])
}

extension MerkleNodeReader {
    /// Readers remember nothing by default.
    public func rememberedSubtree(_ lo: UInt64, _ hi: UInt64) -> [UInt8]? { nil }
    /// Readers remember nothing by default.
    public func remember(subtree lo: UInt64, _ hi: UInt64, hash: [UInt8]) {}
}

/// Errors of Merkle computations and proof checks.
public struct MerkleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in one sentence.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// RFC 9162 section 2.1 Merkle tree hashing, proofs and proof verification.
public enum Merkle {
    /// Hash of the empty tree: SHA-256 of the empty string.
    public static let emptyRoot: [UInt8] = SHA256.hash([])

    /// `SHA-256(0x00 || data)`.
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        var h = SHA256.Hasher()
        h.update(byte: 0x00)
        h.update(data)
        return h.finalize()
    }

    /// `leafHash(data)`, held inline (see `SHA256.Digest`).
    public static func leafDigest(_ data: [UInt8]) -> SHA256.Digest {
        var h = SHA256.Hasher()
        h.update(byte: 0x00)
        h.update(data)
        return h.finalizeDigest()
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        SHA256.withJoined(prefix: 0x01, left, right) { SHA256.hash($0) }
    }

    /// The largest power of two strictly less than `n` (n ≥ 2).
    @inline(__always)
    static func splitPoint(_ n: UInt64) -> UInt64 {
        precondition(n >= 2)
        return 1 << (63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH(D[lo:hi]) from stored perfect subtrees: the left part of every split is perfect, so at most
    /// one read per level.
    public static func subtreeHash(_ lo: UInt64, _ hi: UInt64, _ reader: some MerkleNodeReader) throws -> [UInt8] {
        precondition(lo < hi)
        let n = hi - lo
        if n & (n - 1) == 0 && lo % n == 0 {
            return try reader.node(level: n.trailingZeroBitCount, index: lo >> UInt64(n.trailingZeroBitCount))
        }
        if let known = reader.rememberedSubtree(lo, hi) { return known }
        let k = splitPoint(n)
        let hash = nodeHash(try subtreeHash(lo, lo + k, reader), try subtreeHash(lo + k, hi, reader))
        reader.remember(subtree: lo, hi, hash: hash)
        return hash
    }

    /// The root hash of the first `size` leaves.
    public static func root(size: UInt64, reader: some MerkleNodeReader) throws -> [UInt8] {
        size == 0 ? emptyRoot : try subtreeHash(0, size, reader)
    }

    /// RFC 9162 2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves.
    public static func inclusionProof(index: UInt64, size: UInt64, reader: some MerkleNodeReader) throws -> [[UInt8]] {
        guard index < size else { throw MerkleError("leaf index \(index) is not below tree size \(size)") }
        var path: [[UInt8]] = []
        try inclusionPath(index, 0, size, reader, &path)
        return path
    }

    private static func inclusionPath(
        _ m: UInt64, _ lo: UInt64, _ hi: UInt64, _ reader: some MerkleNodeReader, _ path: inout [[UInt8]]
    ) throws {
        guard hi - lo > 1 else { return }
        let k = splitPoint(hi - lo)
        if m < lo + k {
            try inclusionPath(m, lo, lo + k, reader, &path)
            path.append(try subtreeHash(lo + k, hi, reader))
        } else {
            try inclusionPath(m, lo + k, hi, reader, &path)
            path.append(try subtreeHash(lo, lo + k, reader))
        }
    }

    /// RFC 9162 2.1.4.1 consistency proof between tree sizes `first` and `second`.
    /// Empty when `first` is 0 or equal to `second`.
    public static func consistencyProof(first: UInt64, second: UInt64, reader: some MerkleNodeReader) throws -> [[UInt8]] {
        guard first <= second else { throw MerkleError("first size \(first) is larger than second size \(second)") }
        guard first > 0 && first < second else { return [] }
        var path: [[UInt8]] = []
        try subproof(first, 0, second, true, reader, &path)
        return path
    }

    private static func subproof(
        _ m: UInt64, _ lo: UInt64, _ hi: UInt64, _ complete: Bool, _ reader: some MerkleNodeReader,
        _ path: inout [[UInt8]]
    ) throws {
        let n = hi - lo
        if m == n {
            if !complete { path.append(try subtreeHash(lo, hi, reader)) }
            return
        }
        let k = splitPoint(n)
        if m <= k {
            try subproof(m, lo, lo + k, complete, reader, &path)
            path.append(try subtreeHash(lo + k, hi, reader))
        } else {
            try subproof(m - k, lo + k, hi, false, reader, &path)
            path.append(try subtreeHash(lo, lo + k, reader))
        }
    }

    /// RFC 9162 2.1.3.2: the root that `proof` implies for `leafHash` at `index` in a tree of `size`.
    public static func rootFromInclusionProof(
        leafHash: [UInt8], index: UInt64, size: UInt64, proof: [[UInt8]]
    ) throws(MerkleError) -> [UInt8] {
        guard index < size else { throw MerkleError("leaf index \(index) is not below tree size \(size)") }
        guard leafHash.count == 32 else { throw MerkleError("leaf hash is not 32 bytes") }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            guard p.count == 32 else { throw MerkleError("proof node is \(p.count) bytes, not 32") }
            guard sn != 0 else { throw MerkleError("inclusion proof is too long") }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleError("inclusion proof is too short") }
        return r
    }

    /// Checks an inclusion proof against a known root.
    public static func verifyInclusion(
        leafHash: [UInt8], index: UInt64, size: UInt64, proof: [[UInt8]], root: [UInt8]
    ) throws(MerkleError) {
        let computed = try rootFromInclusionProof(leafHash: leafHash, index: index, size: size, proof: proof)
        guard computed == root else { throw MerkleError("inclusion proof does not lead to the root of tree size \(size)") }
    }

    /// RFC 9162 2.1.4.2: checks that the tree of `second` leaves with root `secondRoot` extends the tree
    /// of `first` leaves with root `firstRoot`.
    public static func verifyConsistency(
        first: UInt64, second: UInt64, firstRoot: [UInt8], secondRoot: [UInt8], proof: [[UInt8]]
    ) throws(MerkleError) {
        guard first <= second else { throw MerkleError("first size \(first) is larger than second size \(second)") }
        // A proof from the empty tree proves nothing (every tree extends it); callers must not rely on one.
        guard first > 0 else { throw MerkleError("consistency with the empty tree is meaningless") }
        if first == second {
            guard proof.isEmpty else { throw MerkleError("consistency proof between equal sizes must be empty") }
            guard firstRoot == secondRoot else { throw MerkleError("roots differ at the same tree size \(first)") }
            return
        }
        guard firstRoot.count == 32, secondRoot.count == 32 else { throw MerkleError("a root hash is not 32 bytes") }
        guard !proof.isEmpty else { throw MerkleError("consistency proof is empty") }
        for p in proof where p.count != 32 { throw MerkleError("proof node is \(p.count) bytes, not 32") }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1
        var sn = second - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw MerkleError("consistency proof is too long") }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleError("consistency proof is too short") }
        guard fr == firstRoot else { throw MerkleError("consistency proof does not lead to the root of tree size \(first)") }
        guard sr == secondRoot else { throw MerkleError("consistency proof does not lead to the root of tree size \(second)") }
    }
}
