import CustodyDomain
import CustodyLedger
import CustodyModel
import Testing

@Suite("JSON pointers in problems")
struct JSONPointerTests {
    @Test("a member name becomes one RFC 6901 reference token: ~ as ~0, / as ~1, and back")
    func escaping() {
        #expect(JSONPointer.appending("a~b", to: "/body") == "/body/a~0b")
        #expect(JSONPointer.appending("a/b", to: "") == "/a~1b")
        #expect(JSONPointer.escape("~1") == "~01" && JSONPointer.unescape("~01") == "~1")
        for key in ["plain", "a~b", "a/b", "~/~1/", "", "é/ü"] {
            #expect(JSONPointer.unescape(JSONPointer.escape(key)) == key)
        }
    }

    @Test("members named with ~ or / are pointed at escaped: in the envelope, in the body (catalogue and rules), in a disclosure")
    func escapedInProblems() async throws {
        let envelope = #"{"body":{},"keyId":"00000000000000000000000000000000","signature":"","a~b/c":1}"#
        #expect(throws: LedgerError(.invalidEnvelope, "unexpected member \"a~b/c\" in envelope", pointer: "/a~0b~1c")) {
            try EventEnvelope.parse(Array(envelope.utf8))
        }

        let reader = BodyReader(JSONObject([("x~y", .integer(1))]))
        #expect(throws: RuleViolation("schema", .invalid, "x~y must be a string", pointer: "/body/x~0y")) { try reader.string("x~y") }

        let log = try await TestLog.open()
        let miner = try await log.register("miner-1")
        var body = try EventEnvelope.parse(TestLog.event("miner-1", key: miner).leafInput).body
        body.set("a/b", .integer(1))
        let refused = await log.ledger.submit(try EventEnvelope.sign(body: body, with: miner))
        #expect(refused.error?.rule == "schema.unknown-field" && refused.error?.pointer == "/body/a~1b", "\(refused)")
        await log.ledger.close()

        let deposit = #"{"index":1,"field":"/valueCommitment","salt":"AAAAAAAAAAAAAAAAAAAAAA==","value":1,"a/b":2}"#
        #expect(throws: AccessError.invalidDisclosure("unexpected member \"a/b\" in a disclosure", pointer: "/a~1b")) {
            try DisclosureDeposit.parse(Array(deposit.utf8))
        }
    }
}
