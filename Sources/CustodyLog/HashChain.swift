import CustodyCrypto

/// The hash chain that links every entry to all before it: `SHA-256(previous || leafHash)`.
public enum HashChain {
    /// The chain hash before entry 0: 32 zero bytes.
    public static let start = [UInt8](repeating: 0, count: 32)

    /// The chain hash of an entry given the previous chain hash and its leaf hash.
    public static func next(previous: [UInt8], leafHash: [UInt8]) -> [UInt8] {
        SHA256.hash(previous, then: leafHash)
    }

    /// Moves `chain` on past an entry with `leafHash`, overwriting its bytes: a replay advances the chain once
    /// per entry, and a new array each time would be allocated and freed as often.
    public static func advance(_ chain: inout [UInt8], leafHash: [UInt8]) {
        precondition(chain.count == SHA256.byteCount, "a chain hash is 32 bytes")
        // Into a digest first: `chain` is read for the join, and only then, uniquely held, overwritten.
        let next = SHA256.withJoined(chain, leafHash) { SHA256.Digest(hashing: $0) }
        chain.withUnsafeMutableBytes { out in next.withUnsafeBytes { out.copyMemory(from: $0) } }
    }
}
