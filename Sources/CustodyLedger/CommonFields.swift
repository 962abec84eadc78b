import CustodyDomain
import CustodyModel

/// The fields every event body carries, checked once at parse time.
struct CommonFields {
    let type: String
    let schemaVersion: Int64
    let signer: String
    let occurredAt: String
    /// `occurredAt` in milliseconds since the Unix epoch.
    let occurredAtMillis: Int64
    let nonce: String

    init(_ body: JSONObject) throws(LedgerError) {
        type = try body.requiredString("type")
        guard EventFormat.isType(type) else {
            throw LedgerError(.invalidEvent, "type \"\(type)\" is not a lowercase (dotted) name like parcel.extract",
                              pointer: "/body/type")
        }
        guard let version = body["schemaVersion"]?.int64Value, version >= 1 else {
            throw LedgerError(.invalidEvent, "schemaVersion must be an integer of at least 1", pointer: "/body/schemaVersion")
        }
        schemaVersion = version
        signer = try body.requiredString("signer")
        guard EventFormat.isParticipantID(signer) else {
            throw LedgerError(.invalidEvent, "signer \"\(signer)\" is not a valid participant id", pointer: "/body/signer")
        }
        occurredAt = try body.requiredString("occurredAt")
        guard let millis = RFC3339.millis(occurredAt) else {
            throw LedgerError(.invalidEvent, "occurredAt \"\(occurredAt)\" is not an RFC 3339 UTC time like 2026-11-29T10:00:00Z",
                              pointer: "/body/occurredAt")
        }
        occurredAtMillis = millis
        nonce = try body.requiredString("nonce")
        guard (8...128).contains(nonce.unicodeScalars.count) else {
            throw LedgerError(.invalidEvent, "nonce must be 8 to 128 characters (Unicode code points)", pointer: "/body/nonce")
        }
    }
}

/// Formats of identifiers in event bodies.
public enum EventFormat {
    /// `^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*)*$`
    public static func isType(_ s: String) -> Bool {
        var partStart = true, firstPart = true
        for c in s.utf8 {
            if c == UInt8(ascii: ".") {
                guard !partStart else { return false }
                partStart = true
                firstPart = false
            } else if partStart {
                guard (0x61...0x7a).contains(c) else { return false }
                partStart = false
            } else {
                let ok = (0x61...0x7a).contains(c) || (0x30...0x39).contains(c) || (!firstPart && c == 0x2d)
                if !ok { return false }
            }
        }
        return !partStart
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$` (the custody domain's rule for participant ids).
    public static func isParticipantID(_ s: String) -> Bool { Identifiers.isParticipantID(s) }
}

extension JSONObject {
    func requiredString(_ key: String, in path: String = "/body") throws(LedgerError) -> String {
        guard let value = self[key] else {
            throw LedgerError(.invalidEvent, "missing required field \(key)", pointer: JSONPointer.appending(key, to: path))
        }
        guard case .string(let s) = value else {
            throw LedgerError(.invalidEvent, "field \(key) must be a string", pointer: JSONPointer.appending(key, to: path))
        }
        return s
    }
}
