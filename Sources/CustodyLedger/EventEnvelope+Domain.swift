import CustodyDomain
import CustodyModel

extension EventEnvelope {
    /// The event as the custody rules see it, were it appended at `index` at `loggedAt`.
    public func facts(index: UInt64, loggedAt: Int64) -> EventFacts {
        EventFacts(index: index, loggedAt: loggedAt, type: type, signer: signer, keyID: keyID,
                   occurredAt: occurredAtMillis, body: bodyReader)
    }
}

extension Genesis {
    /// Reads the genesis fields of an envelope.
    public init(_ envelope: EventEnvelope) throws(LedgerError) {
        do { try self.init(body: envelope.bodyReader, signer: envelope.signer) } catch {
            throw LedgerError(error)
        }
    }
}

extension LedgerError {
    /// The problem for a rule the event breaks: key and signer problems are `unknown-key` (403), other
    /// permission problems `forbidden` (403), malformed fields `invalid-event` (400), and conflicts with the
    /// log's state `rule-violation` (409). The rule's name travels with it.
    public init(_ violation: RuleViolation) {
        let kind: Kind = switch violation.category {
        case .invalid: .invalidEvent
        case .forbidden: violation.rule.hasPrefix("key.") || violation.rule == "participant.unknown" ? .unknownKey : .forbidden
        case .conflict: .ruleViolation
        }
        self.init(kind, violation.detail, pointer: violation.pointer, logIndex: violation.logIndex)
        rule = violation.rule
    }
}
