import CustodyCrypto
import CustodyDomain
import CustodyModel

/// A signed event as submitted: the body, the signer's key id and an Ed25519 signature over the
/// RFC 8785 canonical form of the body. Parsing checks the shape and the common body fields; it does not
/// check the signature (that needs the key in force, which only the log's state knows).
///
/// Immutable, and a class so that passing one through the pipeline retains one reference instead of each of
/// its eight fields.
public final class EventEnvelope: Sendable {
    /// The event body as the rules read it: in place in the submitted bytes when they were in the log's plain
    /// canonical form, otherwise the parsed tree.
    public let bodyReader: BodyReader
    /// RFC 8785 canonical bytes of the body: what was signed.
    public let canonicalBody: [UInt8]
    /// Key id of the signing key (32 lowercase hex).
    public let keyID: String
    /// The 64-byte Ed25519 signature.
    public let signature: [UInt8]
    /// SHA-256 of `canonicalBody`.
    public let eventID: [UInt8]
    /// Common field `type`.
    public let type: String
    /// Common field `signer`: participant id.
    public let signer: String
    /// Common field `occurredAt`.
    public let occurredAt: String
    /// `occurredAt` in milliseconds since the Unix epoch, as read when the envelope was checked.
    public let occurredAtMillis: Int64

    /// The event body as a tree (built from the bytes when the envelope was read in place).
    public var body: JSONObject { bodyReader.object }

    /// Lowercase hex of the event id.
    public var eventIDHex: String { Hex.encode(eventID) }

    /// The bytes stored in the log: the canonical form of the whole envelope. Built directly because
    /// the member names sort as `body` < `keyId` < `signature` and hex and base64 need no escaping.
    public var leafInput: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(canonicalBody.count + 160)
        out.append(contentsOf: #"{"body":"#.utf8)
        out.append(contentsOf: canonicalBody)
        out.append(contentsOf: #","keyId":""#.utf8)
        out.append(contentsOf: keyID.utf8)
        out.append(contentsOf: #"","signature":""#.utf8)
        out.append(contentsOf: Base64.encode(signature).utf8)
        out.append(contentsOf: #""}"#.utf8)
        return out
    }

    /// Signs `body` with `key`, producing an envelope.
    public static func sign(body: JSONObject, with key: SigningKey) throws(LedgerError) -> EventEnvelope {
        let canonical = CanonicalJSON.encode(.object(body))
        return try EventEnvelope(body: body, canonicalBody: canonical, keyID: key.publicKey.keyID,
                                 signature: key.signature(for: canonical))
    }

    /// Parses and checks an envelope from raw request bytes. Bytes in the log's canonical form (what
    /// ``leafInput`` writes, and so what `custody` sends) are read in place, without a tree; anything else is
    /// parsed in full, with the same result.
    public static func parse(_ bytes: [UInt8]) throws(LedgerError) -> EventEnvelope {
        if let envelope = EventEnvelope(canonical: bytes) { return envelope }
        return try parse(try parseJSON(bytes))
    }

    /// The envelope in `bytes` when they are exactly its canonical form in the plain subset
    /// ``CanonicalScanner`` proves, with common fields that ``parse(_:)`` accepts; nil claims nothing.
    init?(canonical bytes: [UInt8]) {
        guard let stored = StoredEnvelope(bytes) else { return nil }
        canonicalBody = Array(bytes[stored.bodyRange])
        bodyReader = BodyReader(stored.body)
        keyID = stored.keyID
        signature = stored.signature
        eventID = SHA256.hash(canonicalBody)
        type = stored.type
        signer = stored.signer
        occurredAt = stored.occurredAtText
        occurredAtMillis = stored.occurredAt
    }

    /// Checks an envelope already parsed as JSON.
    public static func parse(_ value: JSONValue) throws(LedgerError) -> EventEnvelope {
        guard case .object(let envelope) = value else {
            throw LedgerError(.invalidEnvelope, "an envelope is a JSON object with body, keyId and signature")
        }
        for key in envelope.keys where !["body", "keyId", "signature"].contains(key) {
            throw LedgerError(.invalidEnvelope, "unexpected member \"\(key)\" in envelope", pointer: JSONPointer.appending(key, to: ""))
        }
        guard case .object(let body)? = envelope["body"] else {
            throw LedgerError(.invalidEnvelope, "envelope member body must be a JSON object", pointer: "/body")
        }
        guard case .string(let keyID)? = envelope["keyId"], isKeyID(keyID) else {
            throw LedgerError(.invalidEnvelope, "keyId must be 32 lowercase hex characters", pointer: "/keyId")
        }
        guard case .string(let sig64)? = envelope["signature"], let signature = Base64.decode(sig64),
              signature.count == Ed25519.signatureByteCount
        else {
            throw LedgerError(.invalidEnvelope, "signature must be standard base64 of 64 bytes", pointer: "/signature")
        }
        return try EventEnvelope(body: body, canonicalBody: CanonicalJSON.encode(.object(body)),
                                 keyID: keyID, signature: signature)
    }

    private init(body: JSONObject, canonicalBody: [UInt8], keyID: String, signature: [UInt8]) throws(LedgerError) {
        bodyReader = BodyReader(body)
        self.canonicalBody = canonicalBody
        self.keyID = keyID
        self.signature = signature
        eventID = SHA256.hash(canonicalBody)
        let common = try CommonFields(body)
        type = common.type
        signer = common.signer
        occurredAt = common.occurredAt
        occurredAtMillis = common.occurredAtMillis
    }

    /// Strict JSON parsing with the parser's error mapped to a problem.
    public static func parseJSON(_ bytes: [UInt8]) throws(LedgerError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch { throw LedgerError(error) }
    }
}

extension LedgerError {
    /// The problem of JSON the parser refused: `number-out-of-range` for a number JCS cannot carry exactly,
    /// `invalid-json` for anything else.
    public init(_ error: JSONParseError) {
        if case .numberOutOfRange = error.kind {
            self.init(.numberOutOfRange, error.description)
        } else {
            self.init(.invalidJSON, error.description)
        }
    }
}

func isKeyID(_ s: String) -> Bool {
    s.utf8.count == 32 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
}
