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
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chain.count + leafHash.count) { buffer in
            _ = buffer.initialize(fromContentsOf: chain)
            _ = UnsafeMutableBufferPointer(rebasing: buffer[chain.count...]).initialize(fromContentsOf: leafHash)
            chain.withUnsafeMutableBufferPointer { SHA256.hash(UnsafeBufferPointer(buffer), into: $0) }
        }
    }
}
