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

    /// The digest of `first` followed by `second` (two hashes, for a hash chain), hashed in one call from a
    /// buffer on the stack.
    public static func hash(_ first: [UInt8], then second: [UInt8]) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: first.count + second.count) { buffer in
            _ = buffer.initialize(fromContentsOf: first)
            _ = UnsafeMutableBufferPointer(rebasing: buffer[first.count...]).initialize(fromContentsOf: second)
            return hash(UnsafeBufferPointer(buffer))
        }
    }

    /// Writes the digest of the bytes in `buffer` over the 32 bytes at `digest`.
    public static func hash(_ buffer: UnsafeBufferPointer<UInt8>, into digest: UnsafeMutableBufferPointer<UInt8>) {
        precondition(digest.count == byteCount, "a digest is 32 bytes")
        Sodium.ensureReady()
        _ = crypto_hash_sha256(digest.baseAddress!, buffer.baseAddress, UInt64(buffer.count))
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

        /// The digest of everything fed so far.
        public mutating func finalize() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: SHA256.byteCount) { out, count in
                _ = crypto_hash_sha256_final(&state, out.baseAddress!)
                count = SHA256.byteCount
            }
        }
    }
}
