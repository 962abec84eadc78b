import CSodium

/// Errors from key handling.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in one sentence.
    public let description: String

    /// An error with a human-readable reason.
    public init(_ description: String) { self.description = description }
}

/// An Ed25519 public key (RFC 8032), 32 bytes.
public struct PublicKey: Sendable, Hashable {
    /// Key length in bytes.
    public static let byteCount = 32
    /// The raw 32 bytes.
    public let bytes: [UInt8]

    /// A key from its raw 32 bytes.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else {
            throw CryptoError("an Ed25519 public key is 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A key from standard base64 of its 32 bytes.
    public init(base64: String) throws(CryptoError) {
        guard let raw = Base64.decode(base64) else { throw CryptoError("public key is not valid base64") }
        try self.init(bytes: raw)
    }

    /// Standard base64 of the raw bytes, as used on the wire.
    public var base64: String { Base64.encode(bytes) }

    /// The participant key id: lowercase hex of the first 16 bytes of SHA-256(public key).
    public var keyID: String { Hex.encode(SHA256.hash(bytes).prefix(16)) }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        isValidSignature(signature, for: message[...])
    }

    /// Whether `signature` is a valid Ed25519 signature of `message`, a slice of a larger buffer (a stored
    /// envelope's body, checked where it lies).
    public func isValidSignature(_ signature: [UInt8], for message: ArraySlice<UInt8>) -> Bool {
        guard signature.count == Ed25519.signatureByteCount else { return false }
        Sodium.ensureReady()
        return signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                bytes.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(sig.baseAddress!, msg.baseAddress, UInt64(msg.count), pk.baseAddress!) == 0
                }
            }
        }
    }
}

/// An Ed25519 signing key. Holds the 32-byte seed and the expanded 64-byte secret key.
public struct SigningKey: Sendable {
    /// The 32-byte seed from which the key pair derives (RFC 8032 "private key").
    public let seed: [UInt8]
    /// The matching public key.
    public let publicKey: PublicKey
    private let secretKey: [UInt8]

    /// A key pair from a 32-byte seed.
    public init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == 32 else { throw CryptoError("an Ed25519 seed is 32 bytes, got \(seed.count)") }
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        self.seed = seed
        self.secretKey = sk
        self.publicKey = try PublicKey(bytes: pk)
    }

    /// A fresh random key pair.
    public static func generate() -> SigningKey {
        Sodium.ensureReady()
        var seed = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&seed, 32)
        return try! SigningKey(seed: seed)  // 32 bytes by construction
    }

    /// The detached Ed25519 signature of `message` (deterministic, RFC 8032).
    public func signature(for message: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Ed25519.signatureByteCount) { out, count in
            message.withUnsafeBufferPointer { msg in
                secretKey.withUnsafeBufferPointer { sk in
                    _ = crypto_sign_detached(out.baseAddress!, nil, msg.baseAddress, UInt64(msg.count), sk.baseAddress!)
                }
            }
            count = Ed25519.signatureByteCount
        }
    }
}

/// Constants of the Ed25519 scheme.
public enum Ed25519 {
    /// Signature length in bytes.
    public static let signatureByteCount = 64
}

/// Cryptographically secure random bytes from libsodium.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    Sodium.ensureReady()
    var out = [UInt8](repeating: 0, count: count)
    randombytes_buf(&out, count)
    return out
}
