import CustodyCrypto
import CustodyDomain
import CustodyModel
import Foundation

extension EventDraft {
    /// The complete body, made at `occurredAt` (milliseconds since the Unix epoch; default now) with `nonce`
    /// (default: fresh random).
    public func body(signer: String, occurredAtMillis: Int64 = Int64(Date().timeIntervalSince1970 * 1000),
                     nonce: String = EventDraft.randomNonce()) throws(EventBuilderError) -> JSONObject {
        try body(signer: signer, occurredAt: RFC3339.format(millis: occurredAtMillis), nonce: nonce)
    }

    /// Signs the draft as participant `signer` with `key`: the envelope to submit.
    ///
    /// - Parameters:
    ///   - occurredAt: RFC 3339 UTC time the event happened; default now.
    ///   - nonce: default fresh random.
    /// - Throws: ``EventBuilderError`` for a malformed signer, time or nonce.
    public func signed(as signer: String, with key: SigningKey, occurredAt: String? = nil,
                       nonce: String = EventDraft.randomNonce()) throws -> EventEnvelope {
        let time = occurredAt ?? RFC3339.format(millis: Int64(Date().timeIntervalSince1970 * 1000))
        guard RFC3339.millis(time) != nil else {
            throw EventBuilderError("/body/occurredAt", "occurredAt \"\(time)\" is not an RFC 3339 UTC time like 2026-11-29T10:00:00Z")
        }
        return try EventEnvelope.sign(body: try body(signer: signer, occurredAt: time, nonce: nonce), with: key)
    }
}
