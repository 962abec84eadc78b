import ArgumentParser
import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation

/// `custody`: keys, signing, submission, proofs and the offline audit of a Custody Ledger.
@main
struct Custody: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Sign and submit custody events, fetch proofs, and verify a Custody Ledger log.",
        subcommands: [Keygen.self, Register.self, Sign.self, Submit.self, CheckpointCommand.self, Prove.self, Verify.self,
                      Participants.self, ParcelCommand.self, Demo.self, Simulate.self,
                      Disclose.self, Disclosures.self],
        groupedSubcommands: [
            CommandGroup(name: "Record custody events (built from flags, signed and submitted)", subcommands: [
                SiteCommand.self, Extract.self, KPCommand.self, Transfer.self, Accept.self, Cancel.self, Reject.self, Split.self,
                Mix.self, Assort.self, Manufacture.self, Grade.self, Sell.self, Attest.self, IncidentCommand.self, Correct.self,
                PolicyCommand.self, KeyCommand.self,
            ]),
            CommandGroup(name: "Provenance and sourcing status", subcommands: [
                ProvenanceCommand.self, StatusCommand.self, StatusListCommand.self,
            ]),
        ])
}

/// The daemon to talk to.
struct ServerOptions: ParsableArguments {
    @Option(help: "Base URL of custodyd, e.g. http://127.0.0.1:8080.") var server: String = "http://127.0.0.1:8080"

    func client() throws -> LedgerClient {
        do { return try LedgerClient(server: server) } catch { throw ValidationError("\(error)") }
    }
}

/// The log key to pin: verifier key text, or a file holding it.
struct LogKeyOptions: ParsableArguments {
    @Option(name: .customLong("log-key"), help: "The log's verifier key (name+id+key), or a file holding it (e.g. data/log.vkey).")
    var logKey: String?

    func verifier() throws -> NoteVerifier? {
        guard let logKey else { return nil }
        // Not a `try` inside `? :`: with that (a typed throw), Swift 6.3's release build crashed splitting the
        // async `run` of every command that calls this into its parts.
        var text = logKey
        if FileManager.default.fileExists(atPath: logKey) { text = String(decoding: try SecureFile.contents(of: logKey), as: UTF8.self) }
        do { return try NoteVerifier(encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
            // A verifier key always has a `+`; without one, the value was meant as a file that is not there.
            guard text.contains("+") else { throw CommandFailure("--log-key \(logKey): no such file, and not a verifier key (name+id+key)") }
            throw ValidationError("--log-key: \(error)")
        }
    }
}

/// The command could not do what it was asked, though it was asked correctly: a file it cannot read or whose
/// contents are not what it needs, a proof or signature that does not verify. Exit status 1 (a malformed command
/// line is a `ValidationError`, 64; an event the daemon refuses, 2).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The contents of the input file `path`, or of standard input for `-`. A file that cannot be read is a
/// `CommandFailure` naming it and the reason, not a usage error.
func readInput(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    do { return Data(try SecureFile.contents(of: path)) } catch { throw CommandFailure(error.description) }
}

/// Prints the problem of an event the daemon refused (title, detail, rule, pointer, log index) to standard error,
/// or as JSON to standard output; the caller then exits with status 2.
func reportRefusal(_ problem: Problem, type: String, json: Bool = false) {
    if json {
        print((try? prettyJSON(problem)) ?? "")
        return
    }
    var lines = ["refused: \(type): \(problem.title) (\(problem.status) \(problem.slug))", "  \(problem.detail)"]
    if let rule = problem.rule { lines.append("  rule:      \(rule)") }
    if let pointer = problem.pointer { lines.append("  pointer:   \(pointer)") }
    if let parameter = problem.parameter { lines.append("  parameter: \(parameter)") }
    if let index = problem.logIndex { lines.append("  log index: \(index)") }
    FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
}

/// Submits one envelope; a refusal prints its problem and exits with status 2, as every event command does.
func submitOrReport(_ envelope: Data, type: String, client: LedgerClient) async throws -> Receipt {
    do { return try await client.submit(envelope: envelope) } catch let error as ClientError {
        guard let problem = error.problem else { throw error }
        reportRefusal(problem, type: type)
        throw ExitCode(2)
    }
}

func prettyJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func defaultParticipant(for key: PublicKey) -> String { "p-" + key.keyID.prefix(12) }

func nowRFC3339() -> String { RFC3339.format(millis: Int64(Date().timeIntervalSince1970 * 1000)) }

/// Fills the common fields a signer may leave out: schemaVersion, signer, occurredAt, nonce.
func completeBody(_ body: JSONObject, signer: String) -> JSONObject {
    var body = body
    if !body.contains("schemaVersion") { body.set("schemaVersion", .integer(1)) }
    if !body.contains("signer") { body.set("signer", .string(signer)) }
    if !body.contains("occurredAt") { body.set("occurredAt", .string(nowRFC3339())) }
    if !body.contains("nonce") { body.set("nonce", .string(Hex.encode(secureRandomBytes(16)))) }
    return body
}

func envelopeJSON(_ envelope: EventEnvelope) -> String { String(decoding: envelope.leafInput, as: UTF8.self) }

extension Custody {
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an Ed25519 key file (mode 0600).")
        @Option(help: "Where to write the key file; it must not exist.") var out: String
        @Option(help: "Participant id the key signs for (default p-<first 12 hex of the key id>).") var participant: String?

        func run() throws {
            let key = SigningKey.generate()
            let participant = participant ?? defaultParticipant(for: key.publicKey)
            guard EventFormat.isParticipantID(participant) else { throw ValidationError("participant id \"\(participant)\" is not valid") }
            try KeyFile(key: key, participant: participant).write(to: out)
            print("public key:  \(key.publicKey.base64)")
            print("key id:      \(key.publicKey.keyID)")
            print("participant: \(participant)")
            print("written to:  \(out) (mode 0600)")
        }
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Admit a participant's public key (signed by the registrar).")
        @OptionGroup var server: ServerOptions
        @Option(help: "The registrar's key file (data/registrar.key).") var registrar: String
        @Option(help: "The participant's public key (base64).") var publicKey: String
        @Option(help: "Participant id (default p-<first 12 hex of the key id>).") var participant: String?
        @Option(help: "Legal name of the participant.") var legalName: String
        @Option(help: "ISO 3166-1 alpha-2 country where it is based, e.g. BW.") var country: String
        @Option(name: .customLong("role"), help: "A role it holds (repeat for several): \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
        var roles: [String]

        func validate() throws {
            guard Identifiers.isCountry(country) else { throw ValidationError("--country must be two upper-case letters, e.g. BW") }
            guard !roles.isEmpty else { throw ValidationError("give at least one --role") }
            for role in roles where Role(rawValue: role) == nil {
                throw ValidationError("unknown role \(role); one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let key: PublicKey
            do { key = try PublicKey(base64: publicKey) } catch { throw ValidationError("--public-key: \(error)") }
            let registrarFile = try KeyFile.read(from: registrar)
            let participant = participant ?? defaultParticipant(for: key)
            let body = completeBody(JSONObject([
                ("type", .string("participant.register")),
                ("participant", .string(participant)),
                ("legalName", .string(legalName)),
                ("country", .string(country)),
                ("roles", .array(roles.map { .string($0) })),
                ("publicKeys", .array([.string(key.base64)])),
            ]), signer: registrarFile.participant)
            let envelope = try EventEnvelope.sign(body: body, with: registrarFile.signingKey())
            let receipt = try await submitOrReport(Data(envelope.leafInput), type: envelope.type, client: server.client())
            print("registered \(participant) (key \(key.keyID)) at index \(receipt.index)")
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign an event body and print the envelope.",
            discussion: "Fields the body leaves out are filled in: schemaVersion 1, signer from the key file, occurredAt now, a random nonce.")
        @Option(help: "The signer's key file.") var key: String
        @Argument(help: "The event body (JSON object), or - for standard input.") var event: String
        @Option(help: "Write the envelope here instead of standard output.") var out: String?

        func run() throws {
            let keyFile = try KeyFile.read(from: key)
            let value: JSONValue
            do { value = try JSONParser.parse([UInt8](try readInput(event))) } catch let e as JSONParseError {
                throw CommandFailure("\(event): \(e)")
            }
            guard case .object(let body) = value else { throw CommandFailure("\(event): an event body is a JSON object") }
            let envelope = try EventEnvelope.sign(body: completeBody(body, signer: keyFile.participant), with: keyFile.signingKey())
            let text = envelopeJSON(envelope) + "\n"
            if let out { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } else { print(text, terminator: "") }
        }
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a signed envelope (or a JSON array of them) and print the receipt.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var logKey: LogKeyOptions
        @Argument(help: "The envelope file, or - for standard input.") var envelope: String

        func run() async throws {
            let data = try readInput(envelope)
            let client = try server.client()
            let verifier = try logKey.verifier()
            guard data.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") else {
                let receipt = try await submitOrReport(data, type: Self.eventType(of: data), client: client)
                if let verifier { try verifyReceipt(receipt, verifier: verifier) }
                print(try prettyJSON(receipt))
                return
            }
            let batch: BatchResult
            do { batch = try await client.submit(batch: data) } catch let error as ClientError {
                // Refused as a whole (not JSON, empty, too many items): 2, as a refused item is.
                guard let problem = error.problem else { throw error }
                reportRefusal(problem, type: "batch")
                throw ExitCode(2)
            }
            try Self.report(batch, verifier: verifier)
        }

        /// The envelope's event type, for the message of a refusal.
        static func eventType(of data: Data) -> String {
            (try? EventEnvelope.parse([UInt8](data)))?.type ?? "event"
        }

        /// Prints a batch's results, each receipt checked as a single one is, before the exit status says how it
        /// went: 1 when a receipt does not verify, 2 when an item was refused.
        static func report(_ batch: BatchResult, verifier: NoteVerifier?) throws {
            var unverified: [String] = []
            if let verifier {
                for (item, result) in batch.results.enumerated() {
                    guard let receipt = result.receipt else { continue }
                    do { try verifyReceipt(receipt, verifier: verifier) } catch {
                        unverified.append("item \(item) (index \(receipt.index)): \(error)")
                    }
                }
            }
            print(try prettyJSON(batch))
            let rejected = batch.results.filter { $0.problem != nil }.count
            for line in unverified { FileHandle.standardError.write(Data("receipt does not verify: \(line)\n".utf8)) }
            if rejected > 0 {
                FileHandle.standardError.write(Data("refused: \(rejected) of \(batch.results.count) items (their problems are above)\n".utf8))
            }
            guard unverified.isEmpty else { throw ExitCode(1) }
            if rejected > 0 { throw ExitCode(2) }
        }
    }

    struct CheckpointCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Fetch (and with --log-key, verify) the latest signed checkpoint.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var logKey: LogKeyOptions

        func run() async throws {
            let note = try await server.client().checkpoint()
            if let verifier = try logKey.verifier() {
                do { _ = try Checkpoint.open(note, verifier: verifier) } catch {
                    throw CommandFailure("checkpoint does not verify: \(error)")
                }
            }
            print(note, terminator: "")
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch and verify the inclusion proof of an entry against a verified checkpoint.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var logKey: LogKeyOptions
        @Option(parsing: .unconditional, help: "Log index of the entry.") var index: UInt64

        func run() async throws {
            let client = try server.client()
            let (verifier, pinned) = try await resolveVerifier(client: client, logKey: logKey)
            let checkpoint = try Checkpoint.open(try await client.checkpoint(), verifier: verifier)
            guard index < checkpoint.size else { throw CommandFailure("entry \(index) is not in the log (tree size \(checkpoint.size))") }
            let entry = try await client.entry(index)
            let leafHash = Merkle.leafHash(entry.leafInput)
            let proof = try await client.inclusionProof(index: index, size: checkpoint.size)
            guard let path = proof.path else { throw CommandFailure("the daemon's inclusion proof is not base64") }
            try Merkle.verifyInclusion(leafHash: leafHash, index: index, size: checkpoint.size, proof: path, root: checkpoint.root)
            let envelope = try EventEnvelope.parse(entry.leafInput)
            print("entry \(index) (\(envelope.type) by \(envelope.signer), event \(envelope.eventIDHex))")
            print("is included in the tree of size \(checkpoint.size) with root \(Base64.encode(checkpoint.root))")
            print("checkpoint signed by \(verifier.encoded)\(pinned ? "" : " (key taken from the genesis entry; pin it with --log-key)")")
            print("audit path: \(path.count) hashes")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a whole log and check every signature, hash, rule and checkpoint.",
            discussion: "Exit status 0 only when everything holds; otherwise the first bad index and what is wrong.")
        @Option(help: "Audit the daemon at this URL.") var server: String?
        @Option(help: "Audit this SQLite file (opened read-only).") var db: String?
        @OptionGroup var logKey: LogKeyOptions
        @Option(help: "An earlier signed checkpoint (file) that the log must extend.") var since: String?
        @Option(help: "Save the verified latest checkpoint to this file, for the next --since.") var saveCheckpoint: String?
        @Flag(help: "Check the log alone: signatures against the registered keys, hashes, tree, checkpoints and repeats, without re-running the custody rules (faster; for monitors of the log's integrity). Implies --skip-projections.")
        var logOnly = false
        @Flag(help: "Print progress to standard error.") var progress = false
        @Flag(help: "Skip rebuilding the projections (provenance, lineage, origin shares) and comparing them with the daemon's.")
        var skipProjections = false

        func validate() throws {
            guard (server == nil) != (db == nil) else { throw ValidationError("give exactly one of --server and --db") }
        }

        func run() async throws {
            let source: any AuditSource
            if let db {
                source = try DatabaseAuditSource(path: db)
            } else {
                source = RemoteAuditSource(client: try LedgerClient(server: server!))
            }
            let sinceText = try since.map { path in
                let text = String(decoding: try readInput(path), as: UTF8.self)
                guard !text.isEmpty else { throw CommandFailure("--since \(path) is empty: expected a signed checkpoint, as --save-checkpoint writes") }
                return text
            }
            let showProgress = progress
            var options = AuditOptions(logKey: try logKey.verifier(), since: sinceText, progress: { done, total in
                if showProgress { FileHandle.standardError.write(Data("\rverified \(done)/\(total)".utf8)) }
            })
            options.custodyRules = !logOnly
            let report: AuditReport
            do {
                report = try await LogAuditor(source: source, options: options).run()
            } catch let failure as AuditFailure {
                if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
                print("FAILED: \(failure)")
                throw ExitCode(1)
            }
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            print("OK: \(report.treeSize) entries verified")
            print("  root \(Base64.encode(report.root)) matches the latest checkpoint")
            print(logOnly ? "  every signature, leaf hash and chain hash checked; \(report.registeredKeys) registered keys"
                          : "  every signature, leaf hash, chain hash and rule checked; \(report.registeredKeys) registered keys")
            if logOnly { print("  the custody rules were not re-run (--log-only)") }
            print("  \(report.checkpointsChecked) signed checkpoint(s) checked against the replayed tree")
            if let size = report.consistentWith { print("  consistent with the earlier checkpoint of size \(size)") }
            if let grown = report.grewDuringAudit {
                print("  the daemon appended during the audit (now \(grown) entries): the database's custody tables, which hold")
                print("  the state of those later events, were not compared; audit a stopped daemon's file or a copy to compare them")
            }
            print("  log key \(report.logKey)\(report.logKeyPinned ? " (pinned)" : " (from the genesis entry; pin it with --log-key)")")
            if let saveCheckpoint { try Data(report.checkpoint.utf8).write(to: URL(fileURLWithPath: saveCheckpoint)) }
            guard !skipProjections && !logOnly else { return }
            // Provenance and status must be derived from the log alone: rebuild them and compare.
            let scratch = NSTemporaryDirectory() + "custody-verify-projections-\(UUID().uuidString).sqlite"
            let projections = try await ProjectionAudit.run(
                source: source, treeSize: report.treeSize, scratchPath: scratch,
                client: try server.map { try LedgerClient(server: $0) },
                progress: { done in if showProgress { FileHandle.standardError.write(Data("\rprojected \(done)/\(report.treeSize)".utf8)) } })
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            if let served = projections.served {
                guard served == projections.digest else {
                    print("FAILED: the daemon's projections differ from a rebuild from its log at tree size \(report.treeSize)"
                          + (projections.firstDifference.map { ": first differing parcel \($0)" } ?? ""))
                    print("  rebuilt \(projections.digest) (\(projections.records) records), served \(served)")
                    throw ExitCode(1)
                }
                print("  projections rebuilt from the log match the daemon's: \(projections.records) records, sha256 \(projections.digest)")
            } else {
                print("  projections rebuilt from the log: \(projections.records) records, sha256 \(projections.digest)")
            }
        }
    }
}

extension Custody {
    struct Participants: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered participants, their roles and keys.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let list = try await server.client().participants()
            if json { print(try prettyJSON(list)); return }
            for p in list {
                let usable = p.keys.filter { $0.retiredFrom == nil && $0.revokedAt == nil }.count
                print("\(p.id)  \(p.country)  \(p.roles.joined(separator: ","))  \(p.legalName)  (\(usable)/\(p.keys.count) keys in force, registered at \(p.registeredAt))")
            }
        }
    }

    struct ParcelCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "parcel", abstract: "Show a parcel or stone: state, custodian and history.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Parcel or stone id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let p = try await server.client().parcel(id)
            if json { print(try prettyJSON(p)); return }
            print("\(p.id): \(p.form), \(formatCarats(p.carats)) in \(p.stones) stone(s), \(p.status), custodian \(p.custodian)")
            for e in p.history { print("  #\(e.index)  \(e.type)  by \(e.signer)") }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seed a realistic chain on a running daemon: Botswana mine, KP export to Antwerp, split, Surat, lab, retail sale.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var logKey: LogKeyOptions
        @Option(help: "The registrar's key file (data/registrar.key).") var registrar: String

        func run() async throws {
            let client = try server.client()
            let verifier = try logKey.verifier()
            let chain = DemoChain(registrar: try KeyFile.read(from: registrar))
            // A refused step prints its problem and exits 2, as the event commands do.
            let steps = try await chain.run { envelope in
                let receipt = try await submitOrReport(Data(envelope.leafInput), type: envelope.type, client: client)
                if let verifier { try verifyReceipt(receipt, verifier: verifier) }
                return receipt
            }
            for step in steps { print("#\(step.receipt.index)  \(step.type.padding(toLength: 20, withPad: " ", startingAt: 0))  \(step.description)") }
            let stone = "BW-JW-\(chain.tag)-0001-A-1-S1"
            print("\nThe journey of stone \(stone):")
            let p = try await client.parcel(stone)
            print("  \(p.form), \(formatCarats(p.carats)), \(p.status), custodian \(p.custodian)")
            print("  (its own events: \(p.history.map { "#\($0.index) \($0.type)" }.joined(separator: ", ")))")
            print("\(verifier == nil ? "" : "Every receipt's checkpoint signature and inclusion proof checked. ")Verify the whole log with: custody verify --server \(server.server) --log-key data/log.vkey")
        }
    }
}

func formatCarats(_ points: Int64) -> String { "\(points / 100).\(String(format: "%02d", points % 100)) ct" }

/// The pinned log key, or the one the genesis entry names (trust on first use).
func resolveVerifier(client: LedgerClient, logKey: LogKeyOptions) async throws -> (NoteVerifier, Bool) {
    if let pinned = try logKey.verifier() { return (pinned, true) }
    let genesis = try Genesis(try EventEnvelope.parse(try await client.entry(0).leafInput))
    return (try NoteVerifier(encoded: genesis.logKey), false)
}

/// Checks a receipt's checkpoint signature and inclusion proof.
func verifyReceipt(_ receipt: Receipt, verifier: NoteVerifier) throws {
    let checkpoint = try Checkpoint.open(receipt.checkpoint, verifier: verifier)
    guard let leafHash = Base64.decode(receipt.leafHash), let path = receipt.inclusionProof.path,
          receipt.inclusionProof.treeSize == checkpoint.size
    else { throw CommandFailure("receipt of index \(receipt.index) is malformed") }
    try Merkle.verifyInclusion(leafHash: leafHash, index: receipt.index, size: checkpoint.size, proof: path, root: checkpoint.root)
}

extension UInt8 {
    var isWhitespace: Bool { self == 0x20 || self == 0x0a || self == 0x0d || self == 0x09 }
}
