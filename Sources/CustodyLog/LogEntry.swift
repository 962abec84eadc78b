/// One entry of the log as stored and served: the exact bytes and the hashes that bind them.
public struct LogEntry: Sendable, Equatable {
    /// 0-based position; contiguous and never reused.
    public let index: UInt64
    /// The exact stored bytes: the RFC 8785 canonical form of the signed envelope.
    public let leafInput: [UInt8]
    /// `SHA-256(0x00 || leafInput)`.
    public let leafHash: [UInt8]
    /// `SHA-256(previous chain hash || leafHash)`.
    public let chainHash: [UInt8]
    /// When the daemon sequenced the entry, in milliseconds since the Unix epoch.
    public let loggedAtMillis: Int64

    /// An entry from its stored fields.
    public init(index: UInt64, leafInput: [UInt8], leafHash: [UInt8], chainHash: [UInt8], loggedAtMillis: Int64) {
        self.index = index
        self.leafInput = leafInput
        self.leafHash = leafHash
        self.chainHash = chainHash
        self.loggedAtMillis = loggedAtMillis
    }
}
