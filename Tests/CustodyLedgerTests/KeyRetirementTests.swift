import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import Testing

/// `key.last`: a participant retiring a key keeps one it can sign with at every later index. A key counts if
/// it stays usable up to the last index a log can hold (2^53−2); one retired or revoked before then would leave
/// the participant without a key from that index on, even if it is still usable when the retired key stops.
@Suite("Retiring keys")
struct KeyRetirementTests {
    static let k3 = String(repeating: "3", count: 32), k4 = String(repeating: "4", count: 32)
    static let last = ParticipantKey.lastLogIndex

    /// debswana, holding k3 and, when `k4` is given, a key k4 set up by it, retires k3 at index 100 (from
    /// `effectiveFrom`, else 101): the rule's verdict.
    static func retireK3(effectiveFrom: UInt64? = nil, k4: ((inout ExampleWorld) -> Void)? = nil) throws -> Result<[StateChange], RuleViolation> {
        var world = ExampleWorld.examples
        world.keys = world.keys.filter { $0.value.participant != "debswana" }
        world.addKey(k3, of: "debswana")
        k4?(&world)
        var body = try #require(try SchemaFiles.eventExamples().first { $0.name == "participant-key-retire" }?.body)
        body.set("keyId", .string(k3))
        if let effectiveFrom { body.set("effectiveFrom", .integer(Int64(effectiveFrom))) } else { body.remove("effectiveFrom") }
        return world.judge(body, at: 100)
    }

    static func refusedAsLast(_ verdict: Result<[StateChange], RuleViolation>, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .failure(let violation) = verdict else {
            Issue.record("accepted", sourceLocation: sourceLocation)
            return
        }
        #expect(violation.rule == "key.last" && violation.category == .conflict && violation.pointer == "/body/keyId", "\(violation)",
                sourceLocation: sourceLocation)
    }

    @Test("another key neither retired nor revoked lets the participant retire one")
    func otherKeyInForce() throws {
        let verdict = try Self.retireK3 { $0.addKey(Self.k4, of: "debswana") }
        let retired = try verdict.get().compactMap { if case .key(let k) = $0 { k } else { nil } }
        #expect(retired.map(\.keyID) == [Self.k3] && retired.first?.retiredFrom == 101)
    }

    @Test("a key retired only from 2^53−1 is usable at every index a log can hold, so it counts")
    func otherKeyRetiredPastTheEnd() throws {
        #expect(try Self.retireK3 { $0.addKey(Self.k4, of: "debswana", retiredFrom: 9_007_199_254_740_991) }.get().isEmpty == false)
        #expect(Self.last == 9_007_199_254_740_990)
    }

    @Test("a key retired from 2^53−2, the last index a log can hold, does not count")
    func otherKeyRetiredAtTheEnd() throws {
        Self.refusedAsLast(try Self.retireK3 { $0.addKey(Self.k4, of: "debswana", retiredFrom: Self.last) })
    }

    @Test("a key usable when the retired one stops but retired later does not count: from then on there would be none")
    func otherKeyRetiredLater() throws {
        Self.refusedAsLast(try Self.retireK3(effectiveFrom: 500) { $0.addKey(Self.k4, of: "debswana", retiredFrom: 1_000) })
        Self.refusedAsLast(try Self.retireK3 { $0.addKey(Self.k4, of: "debswana", retiredFrom: 102) })
    }

    @Test("a revoked key does not count, nor one of another participant")
    func revokedOrNotOwn() throws {
        Self.refusedAsLast(try Self.retireK3 { $0.addKey(Self.k4, of: "debswana", revokedAt: 90) })
        Self.refusedAsLast(try Self.retireK3 { $0.addKey(Self.k4, of: "antwerp-diamond-trading") })
    }

    @Test("the only key may be retired from 2^53−1, which leaves it usable at every index a log can hold; not from earlier")
    func onlyKey() throws {
        #expect(throws: Never.self) { try Self.retireK3(effectiveFrom: 9_007_199_254_740_991).get() }
        Self.refusedAsLast(try Self.retireK3(effectiveFrom: Self.last))
        Self.refusedAsLast(try Self.retireK3())
    }

    @Test("in a ledger: with k4 retired from 2^53−1, k3 is retired; k4 goes on signing, k3 stops")
    func ledger() async throws {
        let log = try await TestLog.open()
        let k3 = try await log.register("debswana"), k4 = SigningKey.generate()
        func submit(_ type: String, _ fields: [(String, JSONValue)], with key: SigningKey) async throws -> Result<Receipt, LedgerError> {
            await log.ledger.submit(try EventEnvelope.sign(body: TestLog.body(type, signer: "debswana", extra: fields), with: key))
        }
        _ = try await submit("participant.key.add", [("participant", "debswana"), ("publicKey", .string(k4.publicKey.base64))], with: k3).get()
        _ = try await submit("participant.key.retire", [("participant", "debswana"), ("keyId", .string(k4.publicKey.keyID)),
                                                        ("effectiveFrom", .integer(9_007_199_254_740_991))], with: k3).get()
        let retire = try await submit("participant.key.retire", [("participant", "debswana"), ("keyId", .string(k3.publicKey.keyID))], with: k3)
        #expect(retire.error == nil, "\(String(describing: retire.error))")
        _ = try await log.ledger.submit(try TestLog.event("debswana", key: k4, 1)).get()
        #expect(await log.ledger.submit(try TestLog.event("debswana", key: k3, 2)).error != nil)
    }
}
