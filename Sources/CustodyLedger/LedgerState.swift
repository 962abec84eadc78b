import CustodyCrypto
import CustodyLog
import CustodyModel
import CustodyStore

/// The state the append rules need, folded from the log in index order. Pure: the daemon at append time
/// and an auditor replaying offline apply the same function and reach the same verdict on every event.
public struct LedgerState: Sendable {
    /// Checkpoint origin named by the genesis event.
    public private(set) var origin: String?
    /// The log's C2SP verifier key text named by the genesis event.
    public private(set) var logKey: String?
    /// Participant id of the registrar.
    public private(set) var registrar: String?
    /// Registered keys by key id.
    public private(set) var keys: [String: KeyRecord] = [:]
    /// Number of events applied.
    public private(set) var size: UInt64 = 0

    /// The empty state before the genesis event.
    public init() {}

    /// State restored from the store's derived tables (the daemon's start; no replay needed).
    public init(keys records: [KeyRecord], size: UInt64, origin: String?, logKey: String?, registrar: String?) {
        for r in records { keys[r.keyID] = r }
        self.size = size
        self.origin = origin
        self.logKey = logKey
        self.registrar = registrar
    }

    /// The key that must have signed `event` for it to be appended next: for the genesis event the
    /// registrar key it names itself, otherwise a key registered to the event's signer.
    public func signingKey(for event: EventEnvelope) throws(LedgerError) -> PublicKey {
        if size == 0 {
            let genesis = try Genesis(event)
            guard event.keyID == genesis.registrarKey.keyID else {
                throw LedgerError(.unknownKey, "the genesis event must be signed by the registrar key it names",
                                  pointer: "/keyId")
            }
            return genesis.registrarKey
        }
        guard let record = keys[event.keyID] else {
            throw LedgerError(.unknownKey, "key \(event.keyID) is not registered in this log", pointer: "/keyId")
        }
        guard record.participant == event.signer else {
            throw LedgerError(.unknownKey, "key \(event.keyID) is registered to \(record.participant), not to signer \(event.signer)",
                              pointer: "/body/signer", logIndex: record.registeredAt)
        }
        return try! PublicKey(bytes: record.publicKey)  // stored keys are 32 bytes by construction
    }

    /// Applies the rules of appending `event` next (its signature already checked against
    /// `signingKey(for:)`), and returns the keys it registers.
    public mutating func apply(_ event: EventEnvelope) throws(LedgerError) -> [KeyRecord] {
        let index = size
        var added: [KeyRecord] = []
        switch event.type {
        case Genesis.type:
            guard index == 0 else {
                throw LedgerError(.invalidEvent, "log.genesis is allowed only as the first entry", pointer: "/body/type", logIndex: 0)
            }
            let genesis = try Genesis(event)
            origin = genesis.origin
            logKey = genesis.logKey
            registrar = genesis.registrar
            added.append(KeyRecord(keyID: genesis.registrarKey.keyID, participant: genesis.registrar,
                                   publicKey: genesis.registrarKey.bytes, registeredAt: 0))
        case _ where index == 0:
            throw LedgerError(.invalidEvent, "the first entry of a log must be log.genesis", pointer: "/body/type")
        case ParticipantRegistration.type:
            guard event.signer == registrar else {
                throw LedgerError(.unknownKey, "only the registrar \(registrar ?? "?") may register participants",
                                  pointer: "/body/signer")
            }
            let registration = try ParticipantRegistration(event)
            for (i, key) in registration.publicKeys.enumerated() {
                if registration.publicKeys[..<i].contains(key) {
                    throw LedgerError(.invalidEvent, "publicKeys lists key \(key.keyID) twice", pointer: "/body/publicKeys/\(i)")
                }
                if let existing = keys[key.keyID] {
                    throw LedgerError(.invalidEvent, "key \(key.keyID) is already registered to \(existing.participant)",
                                      pointer: "/body/publicKeys", logIndex: existing.registeredAt)
                }
                added.append(KeyRecord(keyID: key.keyID, participant: registration.participant,
                                       publicKey: key.bytes, registeredAt: index))
            }
        default:
            break
        }
        for record in added { keys[record.keyID] = record }
        size += 1
        return added
    }
}

/// `log.genesis`: names the origin, the registrar and its key, and the log's checkpoint key.
public struct Genesis {
    /// The event type.
    public static let type = "log.genesis"
    /// Checkpoint origin.
    public let origin: String
    /// Registrar participant id.
    public let registrar: String
    /// Registrar public key.
    public let registrarKey: PublicKey
    /// C2SP verifier key of the log.
    public let logKey: String

    /// Reads the genesis fields of an event.
    public init(_ event: EventEnvelope) throws(LedgerError) {
        guard event.type == Self.type else {
            throw LedgerError(.invalidEvent, "the first entry of a log must be log.genesis", pointer: "/body/type")
        }
        origin = try event.body.requiredString("origin")
        guard !origin.isEmpty, !origin.unicodeScalars.contains(where: { $0 == "+" || $0.properties.isWhitespace }) else {
            throw LedgerError(.invalidEvent, "origin must be non-empty, without spaces or '+'", pointer: "/body/origin")
        }
        logKey = try event.body.requiredString("logKey")
        guard let verifier = try? NoteVerifier(encoded: logKey), verifier.name == origin else {
            throw LedgerError(.invalidEvent, "logKey must be a C2SP Ed25519 verifier key named after the origin",
                              pointer: "/body/logKey")
        }
        guard case .object(let r)? = event.body["registrar"] else {
            throw LedgerError(.invalidEvent, "genesis needs a registrar object", pointer: "/body/registrar")
        }
        registrar = try r.requiredString("participant", in: "/body/registrar")
        guard registrar == event.signer else {
            throw LedgerError(.invalidEvent, "the genesis signer must be the registrar", pointer: "/body/signer")
        }
        do {
            registrarKey = try PublicKey(base64: try r.requiredString("publicKey", in: "/body/registrar"))
        } catch let e as LedgerError {
            throw e
        } catch {
            throw LedgerError(.invalidEvent, "registrar publicKey is not a base64 Ed25519 key", pointer: "/body/registrar/publicKey")
        }
    }
}

/// `participant.register`: the registrar admits a participant and its keys.
public struct ParticipantRegistration {
    /// The event type.
    public static let type = "participant.register"
    /// Participant id.
    public let participant: String
    /// Its public keys.
    public let publicKeys: [PublicKey]

    /// Reads the registration fields of an event.
    public init(_ event: EventEnvelope) throws(LedgerError) {
        participant = try event.body.requiredString("participant")
        guard EventFormat.isParticipantID(participant) else {
            throw LedgerError(.invalidEvent, "participant \"\(participant)\" is not a valid participant id", pointer: "/body/participant")
        }
        guard case .array(let list)? = event.body["publicKeys"], !list.isEmpty else {
            throw LedgerError(.invalidEvent, "publicKeys must be a non-empty array", pointer: "/body/publicKeys")
        }
        var keys: [PublicKey] = []
        for (i, item) in list.enumerated() {
            guard case .string(let text) = item, let key = try? PublicKey(base64: text) else {
                throw LedgerError(.invalidEvent, "publicKeys[\(i)] is not a base64 Ed25519 public key", pointer: "/body/publicKeys/\(i)")
            }
            keys.append(key)
        }
        publicKeys = keys
    }
}
