import CustodyCrypto

/// A C2SP tlog-checkpoint: origin, tree size and root hash of the log at that size.
public struct Checkpoint: Sendable, Equatable {
    /// The log's origin line (also the signing key's name).
    public let origin: String
    /// Number of leaves.
    public let size: UInt64
    /// RFC 9162 root hash, 32 bytes.
    public let root: [UInt8]
    /// Optional extension lines, kept verbatim.
    public let extensions: [String]

    /// A checkpoint from its fields.
    public init(origin: String, size: UInt64, root: [UInt8], extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// The note text: origin, size, base64 root, extension lines; newline-terminated.
    public var text: String {
        var t = "\(origin)\n\(size)\n\(Base64.encode(root))\n"
        for e in extensions { t += e + "\n" }
        return t
    }

    /// Parses checkpoint note text (signature block already removed).
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw NoteError("checkpoint text must end with a newline") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count >= 3 else { throw NoteError("checkpoint needs origin, size and root lines") }
        let sizeLine = lines[lines.startIndex + 1]
        guard !lines[lines.startIndex].isEmpty else { throw NoteError("checkpoint origin is empty") }
        guard let size = UInt64(sizeLine), String(size) == sizeLine else {
            throw NoteError("checkpoint size \"\(sizeLine)\" is not a decimal number")
        }
        guard let root = Base64.decode(String(lines[lines.startIndex + 2])), root.count == 32 else {
            throw NoteError("checkpoint root is not a base64 SHA-256 hash")
        }
        self.init(origin: String(lines[lines.startIndex]), size: size, root: root,
                  extensions: lines.dropFirst(3).map(String.init))
    }

    /// Signs this checkpoint with the log's note signer; the key name must equal the origin.
    public func signed(by signer: NoteSigner) throws(NoteError) -> String {
        guard signer.name == origin else { throw NoteError("checkpoint origin \(origin) differs from key name \(signer.name)") }
        return try signer.sign(text)
    }

    /// Verifies a signed checkpoint note with the log's verifier key and parses it.
    public static func open(_ note: String, verifier: NoteVerifier) throws(NoteError) -> Checkpoint {
        let checkpoint = try Checkpoint(text: try verifier.open(note))
        guard checkpoint.origin == verifier.name else {
            throw NoteError("checkpoint origin \(checkpoint.origin) differs from key name \(verifier.name)")
        }
        return checkpoint
    }
}
