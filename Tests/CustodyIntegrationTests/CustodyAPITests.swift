import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import Foundation
import Testing

@Suite("Custody state over HTTP", .serialized)
struct CustodyAPITests {
    @Test("the demo chain over HTTP; participants and parcel journeys are served; refusals name the rule")
    func demo() async throws {
        let daemon = try await LiveDaemon.start()
        let chain = DemoChain(registrar: daemon.registrarKey, tag: "it")
        let steps = try await chain.run { try await daemon.client.submit(envelope: Data($0.leafInput)) }
        #expect(steps.count == 23)

        let participants = try await daemon.client.participants()
        #expect(participants.count == 9)  // the registrar and eight parties
        let surat = try #require(participants.first { $0.id == "surat-it" })
        #expect(surat.country == "IN" && surat.roles == ["importer", "manufacturer"] && surat.keys.count == 1)

        let stone = try await daemon.client.parcel("BW-JW-it-0001-A-1-S1")
        #expect(stone.status == "sold" && stone.form == "polished" && stone.carats == 90 && stone.custodian == "retail-it")
        #expect(stone.history.map(\.type) == ["parcel.manufacture", "stone.grade", "custody.transfer", "custody.accept", "parcel.sale"])

        let missing = try await rawRequest(daemon.baseURL.appendingPathComponent("v1/parcels/nope"), method: "GET")
        #expect(missing.status == 404 && missing.problem?.slug == "not-found")

        // Selling the sold stone again: 409 with the rule and the entry it conflicts with.
        let retail = chain.parties["retail"]!
        let again = try envelope("parcel.sale", signer: retail.id, key: retail.key, [
            ("parcel", .string("BW-JW-it-0001-A-1-S1")), ("buyer", .string("consumer")),
        ])
        let response = try await rawRequest(daemon.baseURL.appendingPathComponent("v1/events"), body: Data(again.leafInput))
        #expect(response.status == 409)
        #expect(response.problem?.slug == "rule-violation" && response.problem?.rule == "parcel.sold")
        #expect(response.problem?.logIndex == steps.last?.receipt.index)
        try await daemon.stop()
    }
}
