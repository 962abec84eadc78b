import CustodyModel
import Testing

/// The append rules' settings are part of the log: the registrar changes them with `policy.publish`
/// (`rule-settings`), and every later event, at append and in a replay, is judged under them.
@Suite struct RuleSettingsTests {
    @Test func registrarRaisesThePolishingFloorFromItsIndexOn() async throws {
        let s = try await Scenario()
        let miner = try await s.participant("m", "BW", ["miner", "manufacturer"])
        try await s.site(miner, "S", country: "BW", region: "R")
        try await s.extract(miner, "R1", site: "S", points: 1_000, stones: 4, on: "2026-01-01")
        try await s.extract(miner, "R2", site: "S", points: 1_000, stones: 4, on: "2026-01-01")
        // 30% passes the default 20% floor.
        try await s.manufacture(miner, "R1", into: [("P1", 300)], on: "2026-01-02")
        let registrar = Scenario.Actor(id: "registrar", key: s.registrar)
        try await s.submit(registrar, "policy.publish", at: "2026-01-03T00:00:00Z", [
            "policy": .string("rule-settings"), "version": .integer(1),
            "data": .object(JSONObject([("polishFloorPercent", .integer(40))])),
        ])
        // The same 30% is now refused, naming the floor in force.
        await #expect(throws: ScenarioError.self) { try await s.manufacture(miner, "R2", into: [("P2", 300)], on: "2026-01-04") }
        do { try await s.manufacture(miner, "R2", into: [("P2", 300)], on: "2026-01-04") } catch {
            #expect("\(error)".contains("mass-balance.polish-floor") && "\(error)".contains("40%"))
        }
        try await s.manufacture(miner, "R2", into: [("P2", 450)], on: "2026-01-04")

        // A setting the rules do not know is refused, not ignored.
        await #expect(throws: ScenarioError.self) {
            try await s.submit(registrar, "policy.publish", at: "2026-01-05T00:00:00Z", [
                "policy": .string("rule-settings"), "version": .integer(2),
                "data": .object(JSONObject([("polishFlor", .integer(10))])),
            ])
        }
        await s.close()
    }
}
