import CustodyCrypto
import CustodyModel
import Foundation

/// An envelope read by position, without a JSON tree: the fast path of a replay, and of a submission that
/// arrives in the form the log stores (as `custody` and ``EventEnvelope/leafInput`` write it).
///
/// The log stores each envelope in canonical form, `{"body":…,"keyId":"…","signature":"…"}` (see
/// ``EventEnvelope/leafInput``), so a reader can prove the bytes canonical with ``CanonicalScanner`` and take the
/// fields from where they must be. The initializer fails, claiming nothing, for anything outside the plain
/// subset the scanner proves (escapes, non-ASCII text, fractions) and for any common field that
/// ``EventEnvelope/parse(_:)`` would refuse; the caller then parses in full, which names the problem.
struct StoredEnvelope {
    /// Where the canonical body (the signed bytes) lies in the stored bytes.
    let bodyRange: Range<Int>
    /// The body, read in place in the stored bytes (from the scan that proved them canonical).
    let body: CanonicalObjectView
    let keyID: String
    let signature: [UInt8]
    let type: String
    let signer: String
    /// `occurredAt` as written (made from the stored bytes when asked: a replay needs only the milliseconds).
    var occurredAtText: String { String(decoding: body.bytes[occurredAtRange], as: UTF8.self) }
    /// Where `occurredAt`'s text lies in the stored bytes.
    let occurredAtRange: Range<Int>
    /// `occurredAt` in milliseconds.
    let occurredAt: Int64

    init?(_ stored: [UInt8]) {
        guard let envelope = stored.withUnsafeBufferPointer({ Self.read($0, of: stored) }) else { return nil }
        self = envelope
    }

    private init(bodyRange: Range<Int>, body: CanonicalObjectView, keyID: String, signature: [UInt8], type: String, signer: String,
                 occurredAtRange: Range<Int>, occurredAt: Int64) {
        self.bodyRange = bodyRange
        self.body = body
        self.keyID = keyID
        self.signature = signature
        self.type = type
        self.signer = signer
        self.occurredAtRange = occurredAtRange
        self.occurredAt = occurredAt
    }

    private static let head = Array(#"{"body":"#.utf8)
    private static let keyIDMember = Array(#","keyId":""#.utf8)
    private static let signatureMember = Array(#"","signature":""#.utf8)
    private static let tail = Array(#""}"#.utf8)
    private static let signatureLength = 88

    /// Reads `bytes`, the buffer of `stored`, over which the body's view is made.
    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, of stored: [UInt8]) -> StoredEnvelope? {
        guard has(head, in: bytes, at: 0),
              let (bodyEnd, members) = CanonicalScanner.scanObject(bytes, from: head.count)
        else { return nil }
        // The rest has a fixed length: the key id and the signature's base64 have one length each.
        let keyIDStart = bodyEnd + keyIDMember.count
        let signatureStart = keyIDStart + 32 + signatureMember.count
        guard bytes.count == signatureStart + signatureLength + tail.count,
              has(keyIDMember, in: bytes, at: bodyEnd),
              has(signatureMember, in: bytes, at: keyIDStart + 32),
              has(tail, in: bytes, at: signatureStart + signatureLength)
        else { return nil }
        let keyIDBytes = UnsafeBufferPointer(rebasing: bytes[keyIDStart..<keyIDStart + 32])
        guard keyIDBytes.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              let signature = Base64.decode(utf8: UnsafeBufferPointer(rebasing: bytes[signatureStart..<signatureStart + signatureLength])),
              signature.count == Ed25519.signatureByteCount
        else { return nil }

        // The common fields, checked as `CommonFields` checks them. Scanned strings are printable ASCII
        // without escapes, so their bytes are their text and their code points.
        var type: String?, signer: String?, occurredAtRange: Range<Int>?, occurredAt: Int64?, versionOK = false, nonceOK = false
        for member in members {
            // Member names compared as bytes: a `String` for each of a body's members costs more than the rest.
            let key = UnsafeBufferPointer(rebasing: bytes[member.key])
            let value = UnsafeBufferPointer(rebasing: bytes[member.value])
            if named(key, "type") {
                guard let text = stringContents(value), EventFormat.isType(text) else { return nil }
                type = text
            } else if named(key, "schemaVersion") {
                guard let first = value.first, (0x31...0x39).contains(first) else { return nil }  // a positive integer
                versionOK = true
            } else if named(key, "signer") {
                guard let text = stringContents(value), EventFormat.isParticipantID(text) else { return nil }
                signer = text
            } else if named(key, "occurredAt") {
                guard value.count >= 2, value.first == UInt8(ascii: "\""),
                      let millis = RFC3339.millis(utf8: UnsafeBufferPointer(rebasing: value.dropFirst().dropLast()))
                else { return nil }
                occurredAtRange = member.value.lowerBound + 1..<member.value.upperBound - 1
                occurredAt = millis
            } else if named(key, "nonce") {
                guard value.count >= 2 + 8, value.count <= 2 + 128, value.first == UInt8(ascii: "\"") else { return nil }
                nonceOK = true
            }
        }
        guard let type, let signer, let occurredAtRange, let occurredAt, versionOK, nonceOK else { return nil }
        let bodyRange = head.count..<bodyEnd
        return StoredEnvelope(bodyRange: bodyRange, body: CanonicalObjectView(scanned: stored, range: bodyRange, members: members),
                              keyID: String(decoding: keyIDBytes, as: UTF8.self), signature: signature, type: type, signer: signer,
                              occurredAtRange: occurredAtRange, occurredAt: occurredAt)
    }

    /// Whether a member name, as its bytes, is `name`.
    @inline(__always) private static func named(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        key.count == name.utf8CodeUnitCount && (key.isEmpty || memcmp(key.baseAddress!, name.utf8Start, key.count) == 0)
    }

    private static func has(_ literal: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        guard offset >= 0, offset + literal.count <= bytes.count else { return false }
        for i in 0..<literal.count where bytes[offset + i] != literal[i] { return false }
        return true
    }

    /// The text of a scanned string value, or nil for another kind of value.
    private static func stringContents(_ value: UnsafeBufferPointer<UInt8>) -> String? {
        guard value.count >= 2, value.first == UInt8(ascii: "\"") else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: value.dropFirst().dropLast()), as: UTF8.self)
    }
}
