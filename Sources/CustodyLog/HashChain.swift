import CustodyCrypto

/// The hash chain that links every entry to all before it: `SHA-256(previous || leafHash)`.
public enum HashChain {
    /// The chain hash before entry 0: 32 zero bytes.
    public static let start = [UInt8](repeating: 0, count: 32)

    /// The chain hash of an entry given the previous chain hash and its leaf hash.
    public static func next(previous: [UInt8], leafHash: [UInt8]) -> [UInt8] {
        SHA256.hash(previous, then: leafHash)
    }
}
