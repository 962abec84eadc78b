import CustodyCrypto
import CustodyModel

/// A salted commitment to a confidential value (a price, commercial terms): the log carries only
/// `SHA-256(JCS({"salt": salt, "value": value}))`, in lowercase hex; the parties keep the disclosure
/// `{"salt", "value"}`, which anyone given it can check against the log.
public struct Commitment: Sendable, Equatable {
    /// The 64-hex commitment that goes into the event.
    public let hex: String
    /// The disclosure: `{"salt": <base64 of 16 random bytes>, "value": <value>}`.
    public let disclosure: JSONObject

    /// Commits to `value` with a fresh random salt.
    public init(value: JSONValue) {
        disclosure = JSONObject([("salt", .string(Base64.encode(secureRandomBytes(16)))), ("value", value)])
        hex = Self.commitment(of: disclosure)
    }

    /// The commitment a disclosure opens.
    public static func commitment(of disclosure: JSONObject) -> String {
        Hex.encode(SHA256.hash(CanonicalJSON.encode(.object(disclosure))))
    }

    /// Whether `disclosure` opens `commitment`.
    public static func opens(_ disclosure: JSONObject, _ commitment: String) -> Bool {
        guard case .string(let salt)? = disclosure["salt"], (Base64.decode(salt)?.count ?? 0) >= 16,
              disclosure["value"] != nil, disclosure.count == 2
        else { return false }
        return Self.commitment(of: disclosure) == commitment
    }
}
