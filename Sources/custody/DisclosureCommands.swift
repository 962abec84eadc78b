import ArgumentParser
import CustodyClient
import CustodyCrypto
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation

extension Custody {
    /// `custody disclose`: deposit the clear value behind a commitment, with a signed request.
    struct Disclose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deposit the clear value behind a commitment of one of your events (a signed request).",
            discussion: """
                The file is a disclosure (Schemas/disclosure.schema.json): {"index", "field", "salt", "value"}, where index is \
                the log index of the event and field the commitment's JSON pointer (/valueCommitment, /termsCommitment, \
                /priceCommitment). A bare {"salt", "value"} needs --index and --field. The daemon stores it only if the key \
                belongs to a party to the event and the salt and value open the commitment in the log.
                """)
        @OptionGroup var server: ServerOptions
        @Option(help: "Your key file; its key must be registered in the log.") var key: String
        @Option(parsing: .unconditional, help: "Log index of the event, when the file has none.") var index: UInt64?
        @Option(help: "The commitment's JSON pointer in the event (e.g. /valueCommitment), when the file has none.") var field: String?
        @Argument(help: "The disclosure file, or - for standard input.") var disclosure: String

        func run() async throws {
            let bytes = [UInt8](try readInput(disclosure))
            let field = field.map { $0.hasPrefix("/") ? $0 : "/" + $0 }
            let deposit: DisclosureDeposit
            do { deposit = try DisclosureDeposit.parse(bytes, index: index, field: field) } catch {
                throw CommandFailure("\(disclosure): \(error.problem.detail)")
            }
            if let index, index != deposit.index {
                throw ValidationError("--index \(index) differs from the file's index \(deposit.index)")
            }
            if let field, field != deposit.field {
                throw ValidationError("--field \(field) differs from the file's field \(deposit.field)")
            }
            let client = try DisclosureClient(server: server.server, signer: try RequestSigner(keyFile: try KeyFile.read(from: key)))
            let (record, created) = try await client.deposit(deposit)
            if created {
                print("deposited \(record.field) of entry \(record.index) (commitment \(record.commitment))")
            } else {
                print("\(record.field) of entry \(record.index) was already disclosed, by \(record.depositedBy) at \(record.depositedAt)")
            }
        }
    }

    /// `custody disclosures`: read an event's disclosures and check each against the log.
    struct Disclosures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the disclosures of an event (a signed request) and check each against its commitment in the log.",
            discussion: "Only the parties to the event and auditors may read them. Exits non-zero if any disclosure does not match.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var logKey: LogKeyOptions
        @Option(help: "Your key file; its key must be registered in the log.") var key: String
        @Option(parsing: .unconditional, help: "Log index of the event.") var index: UInt64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let signer = try RequestSigner(keyFile: try KeyFile.read(from: key))
            let records = try await DisclosureClient(server: server.server, signer: signer).disclosures(index: index)
            // The commitments come from the log itself, not from the disclosure service.
            let client = try server.client()
            let entry = try await client.entry(index)
            if logKey.logKey != nil {
                let (verifier, _) = try await resolveVerifier(client: client, logKey: logKey)
                let checkpoint = try Checkpoint.open(try await client.checkpoint(), verifier: verifier)
                guard let path = try await client.inclusionProof(index: index, size: checkpoint.size).path else {
                    throw CommandFailure("the daemon's inclusion proof is not base64")
                }
                try Merkle.verifyInclusion(leafHash: Merkle.leafHash(entry.leafInput), index: index, size: checkpoint.size,
                                           proof: path, root: checkpoint.root)
            }
            let event = try EventEnvelope.parse(entry.leafInput)
            let checked = records.map { ($0, $0.mismatch(against: event)) }
            if json {
                let items: [JSONValue] = checked.map { record, problem in
                    var object = record.jsonObject
                    object.set("matchesCommitment", .bool(problem == nil))
                    return .object(object)
                }
                let page = JSONValue.object(JSONObject([("index", .integer(Int64(index))), ("disclosures", .array(items))]))
                print(String(decoding: CanonicalJSON.encode(page), as: UTF8.self))
            } else {
                print("entry \(index) (\(event.type) by \(event.signer)): \(records.count) disclosure(s)"
                      + (logKey.logKey == nil ? "" : "; entry included in the signed checkpoint"))
                for (record, problem) in checked {
                    let value = String(decoding: CanonicalJSON.encode(record.value), as: UTF8.self)
                    print("  \(record.field) = \(value)  (deposited by \(record.depositedBy) at \(record.depositedAt))")
                    print("    " + (problem.map { "DOES NOT MATCH: \($0)" } ?? "matches commitment \(record.commitment)"))
                }
            }
            if checked.contains(where: { $0.1 != nil }) { throw ExitCode(1) }
        }
    }
}
