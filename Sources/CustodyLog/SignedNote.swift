import CustodyCrypto
import Foundation

/// Errors of note signing, parsing and verification.
public struct NoteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in one sentence.
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The C2SP signed-note Ed25519 key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
public func noteKeyID(name: String, publicKey: PublicKey) -> UInt32 {
    let digest = SHA256.hash(Array(name.utf8), [0x0a, 0x01], publicKey.bytes)
    return digest.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
}

/// Key names are non-empty, with no whitespace or `+` (C2SP signed-note).
func isValidKeyName(_ name: String) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace }
}

private func hex8(_ id: UInt32) -> String {
    let s = String(id, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}

/// Signs notes with an Ed25519 key under a key name (C2SP signed-note).
public struct NoteSigner: Sendable {
    /// The key name (for checkpoints, the log's origin).
    public let name: String
    /// The 4-byte key id.
    public let keyID: UInt32
    /// The signing key.
    public let key: SigningKey

    /// A signer named `name` with `key`.
    public init(name: String, key: SigningKey) throws(NoteError) {
        guard isValidKeyName(name) else { throw NoteError("invalid key name \"\(name)\"") }
        self.name = name
        self.key = key
        keyID = noteKeyID(name: name, publicKey: key.publicKey)
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    public init(encoded: String) throws(NoteError) {
        let text = encoded.trimmingTrailingNewlines()
        let parts = text.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw NoteError("not a signer key (expected PRIVATE+KEY+name+id+key)")
        }
        guard let raw = Base64.decode(String(parts[4])), raw.count == 33, raw[0] == 0x01 else {
            throw NoteError("signer key is not an Ed25519 key")
        }
        let key: SigningKey
        do { key = try SigningKey(seed: Array(raw[1...])) } catch { throw NoteError(error.description) }
        try self.init(name: String(parts[2]), key: key)
        guard String(parts[3]).lowercased() == hex8(keyID) else { throw NoteError("signer key id does not match its key") }
    }

    /// `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`: secret.
    public var encoded: String { "PRIVATE+KEY+\(name)+\(hex8(keyID))+\(Base64.encode([0x01] + key.seed))" }

    /// The matching verifier.
    public var verifier: NoteVerifier { NoteVerifier(name: name, keyID: keyID, publicKey: key.publicKey) }

    /// The signature line for `text`: `— <name> <base64(key id || signature)>` with a trailing newline.
    public func signatureLine(for text: String) -> String {
        let sig = key.signature(for: Array(text.utf8))
        let id: [UInt8] = [UInt8(keyID >> 24), UInt8(keyID >> 16 & 0xff), UInt8(keyID >> 8 & 0xff), UInt8(keyID & 0xff)]
        return "\u{2014} \(name) \(Base64.encode(id + sig))\n"
    }

    /// The complete signed note: text, blank line, signature line.
    public func sign(_ text: String) throws(NoteError) -> String {
        guard text.hasSuffix("\n") else { throw NoteError("note text must end with a newline") }
        return text + "\n" + signatureLine(for: text)
    }
}

/// Verifies signed notes against one Ed25519 key (C2SP signed-note).
public struct NoteVerifier: Sendable, Equatable {
    /// The key name.
    public let name: String
    /// The 4-byte key id.
    public let keyID: UInt32
    /// The public key.
    public let publicKey: PublicKey

    /// A verifier from its parts; the key id must match.
    public init(name: String, keyID: UInt32, publicKey: PublicKey) {
        self.name = name
        self.keyID = keyID
        self.publicKey = publicKey
    }

    /// Parses `<name>+<hex id>+<base64(0x01 || public key)>`; splits on the first two `+` only.
    public init(encoded: String) throws(NoteError) {
        let text = encoded.trimmingTrailingNewlines()
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isValidKeyName(String(parts[0])) else {
            throw NoteError("not a verifier key (expected name+id+key)")
        }
        guard parts[1].count == 8, let id = UInt32(parts[1], radix: 16) else {
            throw NoteError("verifier key id is not 8 hex digits")
        }
        guard let raw = Base64.decode(String(parts[2])), raw.count == 33, raw[0] == 0x01 else {
            throw NoteError("verifier key is not an Ed25519 key")
        }
        let pk: PublicKey
        do { pk = try PublicKey(bytes: Array(raw[1...])) } catch { throw NoteError(error.description) }
        guard noteKeyID(name: String(parts[0]), publicKey: pk) == id else {
            throw NoteError("verifier key id does not match its name and key")
        }
        self.init(name: String(parts[0]), keyID: id, publicKey: pk)
    }

    /// `<name>+<hex id>+<base64(0x01 || public key)>`.
    public var encoded: String { "\(name)+\(hex8(keyID))+\(Base64.encode([0x01] + publicKey.bytes))" }

    /// Checks a signed note and returns its text. At least one signature line must be by this key and
    /// valid; lines by other keys are ignored, as the spec allows.
    public func open(_ note: String) throws(NoteError) -> String {
        guard let split = note.range(of: "\n\n", options: .backwards) else {
            throw NoteError("note has no blank line before its signatures")
        }
        let text = String(note[..<split.lowerBound]) + "\n"
        let sigBlock = note[split.upperBound...]
        guard sigBlock.hasSuffix("\n") else { throw NoteError("note does not end with a newline") }
        var sawOurs = false
        for line in sigBlock.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard line.hasPrefix("\u{2014} ") else { throw NoteError("malformed signature line") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let raw = Base64.decode(String(fields[1])), raw.count >= 5 else {
                throw NoteError("malformed signature line")
            }
            let id = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard String(fields[0]) == name, id == keyID else { continue }
            sawOurs = true
            guard publicKey.isValidSignature(Array(raw[4...]), for: Array(text.utf8)) else {
                throw NoteError("signature by \(name) does not verify")
            }
        }
        guard sawOurs else { throw NoteError("note has no signature by \(name)+\(hex8(keyID))") }
        return text
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
