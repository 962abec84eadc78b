import CustodyDomain
import CustodyModel
import Foundation
import Testing

/// The custody state, in memory, in which the worked examples of Schemas/examples are judged: the parties,
/// sites, parcels, certificates and transfers they name. Each example is judged on its own, against the world
/// as ``ExampleWorld/judging(_:)`` sets it for that example (an extraction needs its parcel id to be new, a split
/// its outputs', an import its certificate validated).
struct ExampleWorld: DomainState {
    var participants: [String: Participant] = [:]
    var keys: [String: ParticipantKey] = [:]
    var sites: [String: Site] = [:]
    var parcels: [String: Parcel] = [:]
    var certificates: [String: Certificate] = [:]
    var transfers: [UInt64: Transfer] = [:]
    var summaries: [UInt64: EventSummary] = [:]

    func participant(_ id: String) throws -> Participant? { participants[id] }
    func key(_ keyID: String) throws -> ParticipantKey? { keys[keyID] }
    func keys(of participant: String) throws -> [ParticipantKey] {
        keys.values.filter { $0.participant == participant }.sorted { $0.keyID < $1.keyID }
    }
    func site(_ id: String) throws -> Site? { sites[id] }
    func parcel(_ id: String) throws -> Parcel? { parcels[id] }
    func certificate(_ number: String) throws -> Certificate? { certificates[number] }
    func transfer(at index: UInt64) throws -> Transfer? { transfers[index] }
    func gradingReport(_ number: String) throws -> UInt64? { nil }
    func eventSummary(at index: UInt64) throws -> EventSummary? { summaries[index] }
    func meta(_ key: String) throws -> String? { nil }

    mutating func register(_ id: String, _ country: String, _ roles: [Role]) {
        participants[id] = Participant(id: id, legalName: id, country: country, roles: roles, registeredAt: 1)
    }

    mutating func addKey(_ keyID: String, of participant: String, retiredFrom: UInt64? = nil, revokedAt: UInt64? = nil) {
        keys[keyID] = ParticipantKey(keyID: keyID, participant: participant, publicKey: Array(repeating: 0, count: 32), addedAt: 1,
                                     retiredFrom: retiredFrom, revokedAt: revokedAt)
    }

    mutating func hold(_ id: String, _ carats: Int64, _ stones: Int64, by custodian: String, form: ParcelForm = .rough) {
        parcels[id] = Parcel(id: id, form: form, carats: carats, stones: stones, custodian: custodian, status: .active,
                             createdAt: 2, lastIndex: 2, lastOccurredAt: 0)
    }

    /// The world the examples tell of, before any of them.
    static let examples: ExampleWorld = {
        var w = ExampleWorld()
        w.register("custody-registrar", "BE", [.registrar])
        w.register("debswana", "BW", [.miner, .exporter])
        w.register("bw-kp-authority", "BW", [.kpAuthority])
        w.register("be-kp-authority", "BE", [.kpAuthority])
        w.register("antwerp-diamond-trading", "BE", [.importer, .trader, .exporter])
        // Registered in Belgium here, so that the example's transfer of rough to it needs no KP certificate.
        w.register("surat-polishing", "BE", [.manufacturer])
        w.register("gia-mumbai", "IN", [.laboratory])
        w.register("tiffany-retail", "US", [.retailer])
        w.register("bucherer-retail", "CH", [.retailer])
        w.register("ipis-monitor", "BE", [.monitor])
        w.addKey("518b8cc6e7b4719a2599dcb2af8a6b19", of: "debswana")
        w.addKey(String(repeating: "d", count: 32), of: "debswana")
        w.addKey("a8f1ebf30bb92dc2b3df1c4f1af4b2fc", of: "antwerp-diamond-trading")
        w.sites["BW-JWANENG"] = Site(id: "BW-JWANENG", name: "Jwaneng Mine", country: "BW", region: "Southern District", latE6: -24_601_700,
                                     lonE6: 24_728_300, kind: .industrial, operatorID: "debswana", registeredAt: 15)
        w.sites["CD-KS-TSHIKAPA-017"] = Site(id: "CD-KS-TSHIKAPA-017", name: "Tshikapa 17", country: "CD", region: "Kasaï", latE6: -6_416_000,
                                             lonE6: 20_800_000, kind: .artisanal, operatorID: "debswana", registeredAt: 20)
        w.summaries[15] = EventSummary(type: "site.register", signer: "debswana")
        w.hold("BW-JW-2026-0001", 125_000, 3_412, by: "antwerp-diamond-trading")
        w.hold("ADT-2026-0417", 1_262, 4, by: "antwerp-diamond-trading")
        w.hold("ADT-2026-0418", 123_738, 3_408, by: "antwerp-diamond-trading")
        w.hold("ADT-2026-0391", 40_120, 1_508, by: "antwerp-diamond-trading")
        w.hold("ADT-2026-0502", 163_858, 4_916, by: "antwerp-diamond-trading")
        w.hold("SP-2026-0417-01", 402, 1, by: "surat-polishing")
        w.hold("SP-2026-0417-01-P1", 171, 1, by: "tiffany-retail", form: .polished)
        w.certificates["BW-2026-000123"] = Certificate(
            number: "BW-2026-000123", exportingCountry: "BW", importingCountry: "BE", exporter: "debswana", importer: "antwerp-diamond-trading",
            parcels: ["BW-JW-2026-0001", "BW-JW-2026-0002"], carats: 211_075, issuedOn: "2026-02-20", expiresOn: "2026-04-21",
            exportedAt: 16, validatedAt: 17)
        w.certificates["BW-2026-000131"] = Certificate(
            number: "BW-2026-000131", exportingCountry: "BW", importingCountry: "AE", exporter: "debswana", importer: "dubai-rough",
            parcels: ["BW-JW-2026-0007"], carats: 9_000, issuedOn: "2026-03-01", expiresOn: "2026-04-30", exportedAt: 40)
        for at: UInt64 in [1838, 1842, 1901] {
            w.transfers[at] = Transfer(index: at, sender: "antwerp-diamond-trading", receiver: "surat-polishing", parcels: ["ADT-2026-0417"])
        }
        return w
    }()

    /// The world as it stands when the example `name` is appended, and the index it gets.
    static func judging(_ name: String) -> (world: ExampleWorld, index: UInt64) {
        var w = examples
        var index: UInt64 = 2_000
        switch name {
        case "log-genesis": return (ExampleWorld(), 0)
        case "participant-register":
            w.participants["debswana"] = nil
            w.keys = w.keys.filter { $0.value.participant != "debswana" }
        case "participant-key-retire": index = 60  // its effectiveFrom is 61
        case "site-register": w.sites["BW-JWANENG"] = nil
        case "parcel-extract": w.parcels["BW-JW-2026-0001"] = nil
        case "kp-export":
            w.certificates["BW-2026-000123"] = nil
            w.hold("BW-JW-2026-0001", 125_000, 3_412, by: "debswana")
            w.hold("BW-JW-2026-0002", 86_075, 2_100, by: "debswana")
        case "kp-validate": w.certificates["BW-2026-000123"]?.validatedAt = nil
        case "parcel-split": for id in ["ADT-2026-0417", "ADT-2026-0418"] { w.parcels[id] = nil }
        case "parcel-mix": w.parcels["ADT-2026-0502"] = nil
        case "parcel-assort":
            w.parcels["ADT-2026-0417"]?.custodian = "surat-polishing"
            w.parcels["SP-2026-0417-01"] = nil
        case "parcel-manufacture": w.parcels["SP-2026-0417-01-P1"] = nil
        default: break
        }
        return (w, index)
    }

    /// The rules' verdict on `body` appended at `index`, read both as a tree (an append) and in place from its
    /// canonical bytes (an audit); the two must agree.
    func judge(_ body: JSONObject, at index: UInt64, sourceLocation: SourceLocation = #_sourceLocation) -> Result<[StateChange], RuleViolation> {
        let canonical = CanonicalJSON.encode(.object(body))
        let fromTree = judge(body, reader: BodyReader(body), at: index)
        if let view = CanonicalObjectView(canonical) {
            let fromBytes = judge(body, reader: BodyReader(view), at: index)
            #expect(fromBytes == fromTree, "the in-place read disagrees with the tree", sourceLocation: sourceLocation)
        }
        return fromTree
    }

    private func judge(_ body: JSONObject, reader: BodyReader, at index: UInt64) -> Result<[StateChange], RuleViolation> {
        let occurredAt = body["occurredAt"]?.stringValue.flatMap(RFC3339.millis) ?? 0
        let facts = EventFacts(index: index, loggedAt: occurredAt, type: body["type"]?.stringValue ?? "", signer: body["signer"]?.stringValue ?? "",
                               keyID: String(repeating: "0", count: 32), occurredAt: occurredAt, body: reader)
        do {
            return .success(try CustodyRules().evaluate(facts, state: self))
        } catch let violation as RuleViolation {
            return .failure(violation)
        } catch {
            return .failure(RuleViolation("unexpected", .invalid, "\(error)"))
        }
    }
}

/// The repository's Schemas/ directory and what the tests read from it.
enum SchemaFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas")

    /// Reads a JSON file of Schemas/; numbers beyond ±(2^53−1) are kept (some cases hold one on purpose).
    static func read(_ path: String) throws -> JSONValue {
        try JSONParser.parse(try Data(contentsOf: directory.appendingPathComponent(path)), numbers: .anyFinite)
    }

    /// The worked examples of the event types, by schema name: the examples named after their body's type
    /// (`kp.export` in examples/kp-export.json).
    static func eventExamples() throws -> [(name: String, body: JSONObject)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("examples").path).sorted()
        return try names.filter { $0.hasSuffix(".json") }.compactMap { file in
            let name = String(file.dropLast(5))
            guard case .object(let o) = try read("examples/\(file)"),
                  o["type"]?.stringValue?.replacingOccurrences(of: ".", with: "-") == name else { return nil }
            return (name, o)
        }
    }
}

/// RFC 6902 JSON Patch, the operations the case files use: `add`, `replace` and `remove`.
enum JSONPatch {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func apply(_ operations: [JSONValue], to value: JSONValue) throws -> JSONValue {
        var value = value
        for op in operations {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else { throw Failure(description: "bad operation \(op)") }
            let tokens = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
                .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
            value = try apply(name, op["value"], at: tokens[...], in: value)
        }
        return value
    }

    private static func apply(_ op: String, _ new: JSONValue?, at path: ArraySlice<String>, in value: JSONValue) throws -> JSONValue {
        guard let token = path.first else {
            guard let new, op != "remove" else { throw Failure(description: "\(op) of the whole document") }
            return new
        }
        let last = path.count == 1
        switch value {
        case .object(var o):
            if last {
                switch op {
                case "remove": guard o.remove(token) != nil else { throw Failure(description: "no member \(token) to remove") }
                default: o.set(token, try operand(op, new))
                }
            } else {
                guard let child = o[token] else { throw Failure(description: "no member \(token)") }
                o.set(token, try apply(op, new, at: path.dropFirst(), in: child))
            }
            return .object(o)
        case .array(var a):
            guard let i = Int(token), a.indices.contains(i) || (op == "add" && i == a.count && last) else { throw Failure(description: "no element \(token)") }
            if last {
                switch op {
                case "remove": a.remove(at: i)
                case "add": a.insert(try operand(op, new), at: i)
                default: a[i] = try operand(op, new)
                }
            } else {
                a[i] = try apply(op, new, at: path.dropFirst(), in: a[i])
            }
            return .array(a)
        default:
            throw Failure(description: "\(token) inside a scalar")
        }
    }

    private static func operand(_ op: String, _ new: JSONValue?) throws -> JSONValue {
        guard let new else { throw Failure(description: "\(op) without a value") }
        return new
    }
}
