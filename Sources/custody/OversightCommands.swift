import ArgumentParser
import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyModel
import Foundation

/// Attestations, incidents, corrections, policy data and participants' keys.
extension Custody {
    struct Attest: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a claim about a parcel or a site, with a reference to its evidence (attestation).",
            discussion: "Example: custody attest --key trader.key --parcel LOT-B --claim \"OECD due diligence done\" --evidence-uri https://example.org/dd.pdf --evidence-file dd.pdf")
        @Option(help: "The parcel or stone it is about.") var parcel: String?
        @Option(help: "The site it is about, instead of --parcel.") var site: String?
        @Option(help: "The claim.") var claim: String
        @OptionGroup(title: "Evidence") var evidence: EvidenceOptions
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let subject: EventDraft.Subject
            switch (parcel, site) {
            case (let id?, nil): subject = .parcel(id)
            case (nil, let id?): subject = .site(id)
            default: throw ValidationError("give exactly one of --parcel and --site")
            }
            let evidence = try evidence.required()
            try await event.record(try build { try .attestation(subject: subject, claim: claim, evidence: evidence) })
        }
    }

    struct IncidentCommand: EventCommand {
        static let configuration = CommandConfiguration(
            commandName: "incident",
            abstract: "Record an abuse at a site or in a region, as an auditor or monitor (incident).",
            discussion: "Example: custody incident --key monitor.key --country CF --region Haute-Kotto --category armed-group --from 2026-09-01 --summary \"…\" --evidence-uri https://example.org/r.pdf --evidence-sha256 <hex>")
        @Option(help: "The registered site where it happened.") var site: String?
        @Option(help: "ISO country where it happened, with --region, instead of --site.") var country: String?
        @Option(help: "Region of --country.") var region: String?
        @Option(help: "Category: \(IncidentCategory.allCases.map(\.rawValue).joined(separator: ", ")).") var category: String
        @Option(help: "First day, YYYY-MM-DD.") var from: String
        @Option(help: "Last day, YYYY-MM-DD, if it has ended.") var to: String?
        @Option(help: "What happened.") var summary: String
        @OptionGroup(title: "Evidence") var evidence: EvidenceOptions
        @OptionGroup var event: EventOptions

        func perform() async throws {
            let scope: EventDraft.Scope
            switch (site, country, region) {
            case (let id?, nil, nil): scope = .site(id)
            case (nil, let c?, let r?): scope = .region(country: c, region: r)
            default: throw ValidationError("give --site, or --country with --region")
            }
            let category = try enumArgument(category, IncidentCategory.self, flag: "--category")
            let first = try dateArgument(from, flag: "--from"), last = try to.map { try dateArgument($0, flag: "--to") }
            let evidence = try evidence.required()
            try await event.record(try build {
                try .incident(scope: scope, category: category, from: first, to: last, summary: summary, evidence: evidence)
            })
        }
    }

    struct Correct: EventCommand {
        static let configuration = CommandConfiguration(
            abstract: "Amend or retract the descriptive data of an earlier event (correction); both stay in the log.",
            discussion: """
                Fields that may be amended: name, region, lat, lon (decimal degrees) or latE6, lonE6, summary, claim, color, \
                clarity, cut, and the evidence (--evidence-uri with its hash). Custody moves and weights are never corrected.
                Example: custody correct --key lab.key --target 23 --set clarity=VS2 --reason "re-graded after cleaning"
                """)
        @Option(parsing: .unconditional, help: "Log index of the event to correct.") var target: UInt64
        @Option(help: ArgumentHelp("A field to amend, FIELD=VALUE; repeat for several.", valueName: "field=value")) var set: [String] = []
        @OptionGroup(title: "Evidence to amend") var evidence: EvidenceOptions
        @Flag(help: "Retract the event (site.register, attestation, incident, stone.grade) instead of amending it.") var retract = false
        @Option(help: "Why.") var reason: String
        @OptionGroup var event: EventOptions

        func perform() async throws {
            var amendment = EventDraft.Amendment()
            for item in set {
                let (field, value) = try splitAssignment(item, flag: "--set", format: "FIELD=VALUE, e.g. clarity=VS2")
                switch field {
                case "name": amendment.name = value
                case "region": amendment.region = value
                case "summary": amendment.summary = value
                case "claim": amendment.claim = value
                case "color": amendment.color = value
                case "clarity": amendment.clarity = value
                case "cut": amendment.cut = value
                case "lat": amendment.latE6 = try degreesArgument(value, flag: "--set lat=")
                case "lon": amendment.lonE6 = try degreesArgument(value, flag: "--set lon=")
                case "latE6", "lonE6":
                    guard let n = Int64(value) else { throw ValidationError("--set \(item): \(field) is a whole number of micro-degrees") }
                    if field == "latE6" { amendment.latE6 = n } else { amendment.lonE6 = n }
                default:
                    throw ValidationError("--set \(item): \(field) cannot be amended; one of name, region, lat, lon, latE6, lonE6, summary, claim, color, clarity, cut")
                }
            }
            amendment.evidence = try evidence.optional()
            let change: EventDraft.Change
            switch (retract, amendment.fieldNames.isEmpty) {
            case (true, true): change = .retract
            case (false, false): change = .amend(amendment)
            case (true, false): throw ValidationError("--retract withdraws the whole event: give no --set or evidence with it")
            case (false, true): throw ValidationError("give the fields to amend with --set FIELD=VALUE (or evidence options), or --retract")
            }
            try await event.record(try build { try .correction(target: target, change, reason: reason) })
        }
    }

    struct PolicyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy", abstract: "Publish policy data (the registrar).", subcommands: [Publish.self])

        struct Publish: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Publish a version of policy data, e.g. sanctioned origins or high-risk areas (policy.publish).",
                discussion: "Example: custody policy publish --key data/registrar.key --policy high-risk-areas --version 2 --file areas.json")
            @Option(help: "Policy name, e.g. high-risk-areas.") var policy: String
            @Option(parsing: .unconditional, help: "Version number (1 or more).") var version: Int64
            @Option(help: ArgumentHelp("The data: a JSON object, or - for standard input.", valueName: "file")) var file: String
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let value: JSONValue
                do { value = try JSONParser.parse([UInt8](try readInput(file))) } catch let error as JSONParseError {
                    throw CommandFailure("--file \(file): \(error)")
                }
                guard case .object(let data) = value else { throw CommandFailure("--file \(file): policy data must be a JSON object") }
                try await event.record(try build { try .policyPublish(policy: policy, version: version, data: data) })
            }
        }
    }

    struct KeyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key", abstract: "Add, retire or revoke a participant's signing keys.",
            discussion: "Signed by the participant itself or by the registrar (with --participant). See the keys with custody participants.",
            subcommands: [Add.self, Retire.self, Revoke.self])

        struct Add: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register a new key of a participant (participant.key.add).",
                discussion: "Example: custody keygen --out miner-2027.key --participant debswana && custody key add --key miner.key --public-key miner-2027.key")
            @Option(help: "The participant (default: the signer).") var participant: String?
            @Option(help: ArgumentHelp("The new public key: base64, or a key file holding it.", valueName: "key")) var publicKey: String
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let key = try publicKeyArgument(publicKey)
                let participant = try participant ?? event.signerID()
                try await event.record(try build { try .participantKeyAdd(participant: participant, publicKey: key) })
            }
        }

        struct Retire: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Retire a key from a log index on (participant.key.retire); the participant keeps at least one.",
                discussion: "Example: custody key retire --key miner-2027.key --key-id 63147337d7878bee9712825402fe5dd4")
            @Option(help: "The participant (default: the signer).") var participant: String?
            @Option(help: ArgumentHelp("The key to retire: its key id (32 hex), or a key file holding it.", valueName: "key")) var keyId: String
            @Option(parsing: .unconditional, help: "First log index at which it no longer signs (default: right after this event).") var effectiveFrom: UInt64?
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let id = try keyIDArgument(keyId)
                let participant = try participant ?? event.signerID()
                try await event.record(try build { try .participantKeyRetire(participant: participant, keyID: id, effectiveFrom: effectiveFrom) })
            }
        }

        struct Revoke: EventCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a key: nothing after this event may be signed with it (participant.key.revoke).",
                discussion: "A compromised key may revoke itself. Example: custody key revoke --key data/registrar.key --participant antwerp --key-id 5f0c… --reason \"laptop stolen\"")
            @Option(help: "The participant (default: the signer).") var participant: String?
            @Option(help: ArgumentHelp("The key to revoke: its key id (32 hex), or a key file holding it.", valueName: "key")) var keyId: String
            @Option(help: "Why.") var reason: String
            @OptionGroup var event: EventOptions

            func perform() async throws {
                let id = try keyIDArgument(keyId)
                let participant = try participant ?? event.signerID()
                try await event.record(try build { try .participantKeyRevoke(participant: participant, keyID: id, reason: reason) })
            }
        }
    }
}

/// A public key given as base64, or as a key file holding it.
func publicKeyArgument(_ text: String) throws -> PublicKey {
    if FileManager.default.fileExists(atPath: text) {
        let file: KeyFile
        do { file = try KeyFile.read(from: text) } catch { throw ValidationError("--public-key \(text): \(error)") }
        return try file.signingKey().publicKey
    }
    do { return try PublicKey(base64: text) } catch { throw ValidationError("--public-key \(text): \(error) (give base64 of the 32-byte key, or a key file)") }
}

/// A key id given as 32 hex, or as a key file holding it.
func keyIDArgument(_ text: String) throws -> String {
    if FileManager.default.fileExists(atPath: text) {
        do { return try KeyFile.read(from: text).keyId } catch { throw ValidationError("--key-id \(text): \(error)") }
    }
    return text
}
