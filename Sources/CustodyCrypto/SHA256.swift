import CSodium
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 (FIPS 180-4) over libsodium. Digests are 32-byte arrays.
public enum SHA256 {
    /// Digest length in bytes.
    public static let byteCount = 32

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBufferPointer { hash($0) } }

    /// The digest of `bytes`, a slice of a larger buffer (not copied out of it).
    public static func hash(_ bytes: ArraySlice<UInt8>) -> [UInt8] { bytes.withUnsafeBufferPointer { hash($0) } }

    /// The digest of `first` followed by `second` (two hashes, for a hash chain).
    public static func hash(_ first: [UInt8], then second: [UInt8]) -> [UInt8] {
        withJoined(first, second) { hash($0) }
    }

    /// Runs `body` over `prefix` (when given), `first` and `second` joined in one buffer on the stack: the
    /// chain and tree hashes, of two digests each, are hashed for every entry appended or replayed, and one
    /// libsodium call over a joined buffer costs less than an incremental hash.
    @inlinable
    public static func withJoined<R>(prefix: UInt8? = nil, _ first: [UInt8], _ second: [UInt8],
                                     _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let start = prefix == nil ? 0 : 1
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: start + first.count + second.count) { buffer in
            if let prefix { buffer[0] = prefix }
            _ = UnsafeMutableBufferPointer(rebasing: buffer[start...]).initialize(fromContentsOf: first)
            _ = UnsafeMutableBufferPointer(rebasing: buffer[(start + first.count)...]).initialize(fromContentsOf: second)
            return body(UnsafeBufferPointer(buffer))
        }
    }

    /// Whether two digests (or any two byte strings) are equal, compared with `memcmp`: an audit compares
    /// several per entry, and `==` on arrays compares element by element. Not constant-time: for public hashes.
    public static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }

    /// The digest of the bytes in `buffer`.
    public static func hash(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        Sodium.ensureReady()
        return [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            _ = crypto_hash_sha256(out.baseAddress!, buffer.baseAddress, UInt64(buffer.count))
            count = byteCount
        }
    }

    /// The digest of the concatenation of `parts`, without building the concatenation.
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var hasher = Hasher()
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }

    /// A digest held inline, not in an array: nothing to allocate, keep or free. An audit makes
    /// two for every entry on the checking threads, and an array made there and freed by the fold costs a
    /// trip through the allocator's slow path on each side.
    public struct Digest: Sendable, Equatable {
        /// 32 bytes in a homogeneous tuple: laid out contiguously, and bound to `UInt8`.
        private var storage: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                              UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                              UInt8, UInt8, UInt8, UInt8)
            = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        /// The digest that `fill` writes into 32 bytes.
        init(_ fill: (UnsafeMutablePointer<UInt8>) -> Void) {
            withUnsafeMutableBytes(of: &storage) { fill($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        }

        /// The digest held in `bytes`, 32 of them (one computed elsewhere, such as a parsed envelope's id).
        public init(bytes: [UInt8]) {
            precondition(bytes.count == SHA256.byteCount, "a digest is 32 bytes")
            self.init { out in bytes.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: SHA256.byteCount) } }
        }

        /// The digest of the bytes in `buffer`.
        public init(hashing buffer: UnsafeBufferPointer<UInt8>) {
            Sodium.ensureReady()
            self.init { _ = crypto_hash_sha256($0, buffer.baseAddress, UInt64(buffer.count)) }
        }

        /// The digest of `bytes`, a slice of a larger buffer (not copied out of it).
        public init(hashing bytes: ArraySlice<UInt8>) {
            self = bytes.withUnsafeBufferPointer { Digest(hashing: $0) }
        }

        /// Runs `body` over the digest's 32 bytes.
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try Swift.withUnsafeBytes(of: storage, body)
        }

        /// The digest as an array.
        public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

        /// Whether `other` holds exactly these 32 bytes.
        public func matches(_ other: [UInt8]) -> Bool {
            other.count == SHA256.byteCount && withUnsafeBytes { mine in
                other.withUnsafeBytes { memcmp(mine.baseAddress!, $0.baseAddress!, SHA256.byteCount) == 0 }
            }
        }

        public static func == (a: Digest, b: Digest) -> Bool {
            a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, SHA256.byteCount) == 0 } }
        }
    }

    /// Incremental SHA-256.
    public struct Hasher {
        private var state = crypto_hash_sha256_state()

        /// A fresh hasher.
        public init() {
            Sodium.ensureReady()
            crypto_hash_sha256_init(&state)
        }

        /// Feeds `bytes` into the hash.
        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { input in
                _ = crypto_hash_sha256_update(&state, input.baseAddress, UInt64(input.count))
            }
        }

        /// Feeds one byte into the hash.
        public mutating func update(byte: UInt8) {
            var b = byte
            _ = crypto_hash_sha256_update(&state, &b, 1)
        }

        /// The digest of everything fed so far, inline.
        public mutating func finalizeDigest() -> Digest {
            Digest { _ = crypto_hash_sha256_final(&state, $0) }
        }

        /// The digest of everything fed so far.
        public mutating func finalize() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: SHA256.byteCount) { out, count in
                _ = crypto_hash_sha256_final(&state, out.baseAddress!)
                count = SHA256.byteCount
            }
        }
    }
}
