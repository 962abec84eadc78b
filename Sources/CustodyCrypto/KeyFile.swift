import Foundation

/// A participant's secret key on disk: JSON with the seed, written with mode 0600.
///
/// `{"kind":"custody-ed25519-key","participant":"…","keyId":"…","publicKey":"…","seed":"…"}`
public struct KeyFile: Codable, Sendable {
    /// Marks the file format, so a wrong file is named as such.
    public static let kindTag = "custody-ed25519-key"

    /// Always `custody-ed25519-key`.
    public var kind: String
    /// The participant id the key signs for.
    public var participant: String
    /// The key id (lowercase hex of the first 16 bytes of SHA-256 of the public key).
    public var keyId: String
    /// Standard base64 of the 32-byte public key.
    public var publicKey: String
    /// Standard base64 of the 32-byte seed. Secret.
    public var seed: String

    /// A key file for `key`, signing as `participant`.
    public init(key: SigningKey, participant: String) {
        kind = Self.kindTag
        self.participant = participant
        keyId = key.publicKey.keyID
        publicKey = key.publicKey.base64
        seed = Base64.encode(key.seed)
    }

    /// The signing key, checked against the recorded public key.
    public func signingKey() throws(CryptoError) -> SigningKey {
        guard kind == Self.kindTag else { throw CryptoError("not a custody key file (kind is \"\(kind)\")") }
        guard let raw = Base64.decode(seed) else { throw CryptoError("key file seed is not valid base64") }
        let key = try SigningKey(seed: raw)
        guard key.publicKey.base64 == publicKey else {
            throw CryptoError("key file is inconsistent: its seed does not give its public key")
        }
        return key
    }

    /// Reads and checks a key file.
    public static func read(from path: String) throws -> KeyFile {
        let bytes = try SecureFile.contents(of: path)
        let file: KeyFile
        do { file = try JSONDecoder().decode(KeyFile.self, from: Data(bytes)) } catch {
            throw CryptoError("\(path) is not a custody key file")
        }
        _ = try file.signingKey()
        return file
    }

    /// Writes the key file atomically with mode 0600; refuses to overwrite an existing file.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        var bytes = [UInt8](try encoder.encode(self))
        bytes.append(0x0a)
        try SecureFile.writeNew(bytes, to: path)
    }
}

/// Crash-safe writes of secret files (temporary file with mode 0600, fsync, then link into place), and reads
/// whose errors name the file and the system's reason.
public enum SecureFile {
    /// The whole contents of the file at `path`. The error says which file and why (`No such file or directory`,
    /// `Is a directory`, `Permission denied`), where Foundation's messages for the same failures name neither.
    public static func contents(of path: String) throws(CryptoError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CryptoError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return contents }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw CryptoError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            contents.append(contentsOf: chunk[..<n])
        }
    }

    /// Writes `bytes` to a new file at `path` with mode 0600. Fails if `path` exists.
    public static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw CryptoError("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var ok = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress, raw.count) == raw.count }
        ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(temp)
            throw CryptoError("cannot write \(temp): \(String(cString: strerror(errno)))")
        }
        // link(2) fails if the target exists, unlike rename(2): a key is never silently replaced.
        guard link(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw CryptoError("cannot create \(path): \(reason)")
        }
        unlink(temp)
        syncDirectory(of: path)
    }

    /// fsyncs the directory holding `path`, so a new name survives a crash.
    public static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
