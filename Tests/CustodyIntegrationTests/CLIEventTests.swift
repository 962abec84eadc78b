import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation
import Testing

/// The built `custody` binary, run in a temporary working directory against a live daemon.
struct CustodyCLI {
    let daemon: LiveDaemon
    let directory: String

    /// What one run printed and how it ended.
    struct Run: CustomStringConvertible {
        let status: Int32
        let stdout: String
        let stderr: String
        var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    init(daemon: LiveDaemon) throws {
        self.daemon = daemon
        directory = NSTemporaryDirectory() + "custody-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var server: [String] { ["--server", daemon.baseURL.absoluteString] }

    /// Runs `custody arguments…`, awaiting its exit without blocking a thread the daemon may need.
    func run(_ arguments: [String]) async throws -> Run {
        let out = directory + "/.stdout-\(UUID().uuidString)", err = directory + "/.stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: builtExecutable("custody"))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return Run(status: status, stdout: try String(contentsOfFile: out, encoding: .utf8), stderr: try String(contentsOfFile: err, encoding: .utf8))
    }

    /// Runs an event command against the daemon and expects it logged; returns its receipt.
    func logged(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Receipt {
        let result = try await run(arguments + server + ["--json"])
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        return try JSONDecoder().decode(Receipt.self, from: Data(result.stdout.utf8))
    }

    /// A key file for `participant`, made with `custody keygen`, and the participant admitted with `custody register`.
    func participant(_ id: String, country: String, roles: [String]) async throws -> String {
        let file = "\(id).key"
        let made = try await run(["keygen", "--out", file, "--participant", id])
        #expect(made.status == 0, "\(made)")
        let key = try KeyFile.read(from: directory + "/" + file)
        let registered = try await run(["register", "--registrar", daemon.directory.registrarKeyPath, "--public-key", key.publicKey,
                                        "--participant", id, "--legal-name", "\(id) Ltd", "--country", country]
                                       + roles.flatMap { ["--role", $0] } + server)
        #expect(registered.status == 0, "\(registered)")
        return file
    }
}

@Suite("custody records events from flags", .serialized)
struct CLIEventTests {
    @Test("site, extraction, split, transfer with committed terms, acceptance: the parcels end where the commands put them")
    func typedCommands() async throws {
        let daemon = try await LiveDaemon.start()
        let cli = try CustodyCLI(daemon: daemon)
        let miner = try await cli.participant("miner-1", country: "BW", roles: ["miner"])
        let trader = try await cli.participant("trader-1", country: "BW", roles: ["trader"])

        _ = try await cli.logged(["site", "register", "--key", miner, "--site", "BW-S1", "--name", "Pit 1", "--country", "BW",
                                  "--region", "Central", "--lat", "-21.5", "--lon", "24.8", "--kind", "artisanal"])
        let human = try await cli.run(["extract", "--key", miner, "--site", "BW-S1", "--parcel", "P1", "--carats", "1520.50",
                                       "--stones", "3200"] + cli.server)
        #expect(human.status == 0, "\(human)")
        let line = #/^logged #(\d+) parcel\.extract by miner-1: event ([0-9a-f]{64}), checkpoint size (\d+)\n$/#
        let match = try #require(human.stdout.wholeMatch(of: line), "\(human.stdout)")
        #expect(UInt64(match.output.3)! == UInt64(match.output.1)! + 1)
        _ = try await cli.logged(["split", "--key", miner, "--parcel", "P1", "--output", "P1-A=1000.50,2000", "--output", "P1-B=52000pt,1200"])

        let transfer = try await cli.logged(["transfer", "--key", miner, "--parcels", "P1-A", "--to", "trader-1", "--terms", "net 30"])
        #expect(try await daemon.client.parcel("P1-A").status == "in-transit")
        // The disclosure is where custody disclose expects it, private, and opens the commitment in the log.
        let path = "\(cli.directory)/disclosures/\(transfer.eventId).json"
        let deposit = try DisclosureDeposit.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(deposit.index == transfer.index && deposit.field == "/termsCommitment" && deposit.value == .string("net 30"))
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let logged = try EventEnvelope.parse(try await daemon.client.entry(transfer.index).leafInput)
        #expect(Commitment.opens(deposit.opening, logged.body["termsCommitment"]?.stringValue ?? ""))

        _ = try await cli.logged(["accept", "--key", trader, "--transfer", "\(transfer.index)"])

        let a = try await daemon.client.parcel("P1-A"), b = try await daemon.client.parcel("P1-B"), p = try await daemon.client.parcel("P1")
        #expect(a.custodian == "trader-1" && a.status == "active" && a.carats == 100_050 && a.stones == 2_000)
        #expect(a.history.map(\.type) == ["parcel.split", "custody.transfer", "custody.accept"])
        #expect(b.custodian == "miner-1" && b.carats == 52_000 && b.stones == 1_200)
        #expect(p.status == "consumed" && p.carats == 152_050)
        let shown = try await cli.run(["parcel", "P1-A"] + cli.server)
        #expect(shown.stdout.hasPrefix("P1-A: rough, 1000.50 ct in 2000 stone(s), active, custodian trader-1\n"), "\(shown)")

        // --dry-run signs and prints the envelope, and stores nothing.
        let size = try await daemon.client.health().treeSize
        let dry = try await cli.run(["sell", "--key", trader, "--parcel", "P1-A", "--price", "125000.00", "--dry-run"] + cli.server)
        #expect(dry.status == 0, "\(dry)")
        let envelope = try EventEnvelope.parse(Array(dry.stdout.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
        #expect(envelope.type == "parcel.sale" && envelope.signer == "trader-1" && envelope.body["buyer"] == .string("consumer"))
        #expect(try await daemon.client.health().treeSize == size)
        try await daemon.stop()
    }

    @Test("custody verify --log-only checks the log without the custody rules, over HTTP and on the database file")
    func verifyLogOnly() async throws {
        let daemon = try await LiveDaemon.start()
        let cli = try CustodyCLI(daemon: daemon)
        let miner = try await cli.participant("miner-3", country: "BW", roles: ["miner"])
        _ = try await cli.logged(["site", "register", "--key", miner, "--site", "S3", "--name", "Pit", "--country", "BW",
                                  "--region", "North", "--lat", "0", "--lon", "0", "--kind", "alluvial"])
        let size = try await daemon.client.health().treeSize
        for source in [cli.server, ["--db", daemon.directory.databasePath]] {
            let audit = try await cli.run(["verify", "--log-only"] + source)
            #expect(audit.status == 0, "\(audit)")
            #expect(audit.stdout.hasPrefix("OK: \(size) entries verified\n"), "\(audit)")
            #expect(audit.stdout.contains("every signature, leaf hash and chain hash checked"), "\(audit)")
            #expect(audit.stdout.contains("the custody rules were not re-run (--log-only)"), "\(audit)")
            #expect(!audit.stdout.contains("projections"), "\(audit)")
        }
        try await daemon.stop()
    }

    @Test("a refusal prints the problem's title, detail, rule, pointer and log index, and exits 2; usage errors name the flag")
    func refusal() async throws {
        let daemon = try await LiveDaemon.start()
        let cli = try CustodyCLI(daemon: daemon)
        let miner = try await cli.participant("miner-2", country: "BW", roles: ["miner"])
        _ = try await cli.logged(["site", "register", "--key", miner, "--site", "S", "--name", "Pit", "--country", "BW", "--region", "North",
                                  "--lat", "0", "--lon", "0", "--kind", "alluvial"])
        let extract = try await cli.logged(["extract", "--key", miner, "--site", "S", "--parcel", "P", "--carats", "15", "--stones", "2"])
        let size = try await daemon.client.health().treeSize

        let split = ["split", "--key", miner, "--parcel", "P", "--output", "X=10.00,1", "--output", "Y=5.01,1"] + cli.server
        let refused = try await cli.run(split)
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr == """
            refused: parcel.split: Rule violation (409 rule-violation)
              outputs weigh 1501 points; parcel P weighs 1500
              rule:      mass-balance.split
              pointer:   /body/outputs
              log index: \(extract.index)

            """, "\(refused)")
        let asJSON = try await cli.run(split + ["--json"])
        #expect(asJSON.status == 2)
        let problem = try JSONDecoder().decode(Problem.self, from: Data(asJSON.stdout.utf8))
        #expect(problem.rule == "mass-balance.split" && problem.pointer == "/body/outputs" && problem.logIndex == extract.index)
        #expect(try await daemon.client.health().treeSize == size)

        let usage = try await cli.run(["extract", "--key", miner, "--site", "S", "--parcel", "Q", "--carats", "12.345", "--stones", "1"] + cli.server)
        #expect(usage.status == 64 && usage.stderr.contains("--carats 12.345: at most 2 decimals (1 ct = 100 points)"), "\(usage)")
        #expect(try await daemon.client.health().treeSize == size)
        try await daemon.stop()
    }

    @Test("custody submit of a batch checks every receipt against --log-key, prints every result, and exits 2 when an item is refused")
    func submitBatch() async throws {
        let daemon = try await LiveDaemon.start()
        let cli = try CustodyCLI(daemon: daemon)
        func envelope(_ participant: String) throws -> String {
            String(decoding: try registration(participant, key: .generate(), registrar: daemon.registrarKey).leafInput, as: UTF8.self)
        }
        let good = cli.directory + "/good.json", mixed = cli.directory + "/mixed.json"
        try "[\(try envelope("batch-1")),\(try envelope("batch-2"))]".write(toFile: good, atomically: true, encoding: .utf8)
        try "[\(try envelope("batch-3")),{\"x\":1}]".write(toFile: mixed, atomically: true, encoding: .utf8)
        let logKey = ["--log-key", daemon.directory.logVerifierKeyPath]

        let accepted = try await cli.run(["submit", good] + logKey + cli.server)
        #expect(accepted.status == 0 && accepted.stderr.isEmpty, "\(accepted)")
        let refused = try await cli.run(["submit", mixed] + logKey + cli.server)
        #expect(refused.status == 2 && refused.stderr.contains("refused: 1 of 2 items"), "\(refused)")
        let results = try JSONDecoder().decode(BatchResult.self, from: Data(refused.stdout.utf8)).results
        #expect(results.map(\.status) == ["accepted", "rejected"] && results[1].problem?.item == 1)

        // Against another log's key, the receipts (here of duplicates) do not verify: exit 1, every result still printed.
        let otherLog = try NoteSigner(name: "it.example/log", key: .generate()).verifier.encoded
        let unverified = try await cli.run(["submit", good, "--log-key", otherLog] + cli.server)
        #expect(unverified.status == 1 && unverified.stderr.contains("receipt does not verify: item 0 (index "), "\(unverified)")
        #expect(try JSONDecoder().decode(BatchResult.self, from: Data(unverified.stdout.utf8)).results.count == 2)
        try await daemon.stop()
    }

    @Test("exit statuses agree with the README: a refused event 2, a file that cannot be read or a check that fails 1, a malformed flag 64")
    func exitStatuses() async throws {
        let daemon = try await LiveDaemon.start()
        let cli = try CustodyCLI(daemon: daemon)
        let miner = try await cli.participant("miner-x", country: "BW", roles: ["miner"])
        let size = try await daemon.client.health().treeSize
        func expect(_ arguments: [String], _ status: Int32, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let run = try await cli.run(arguments)
            #expect(run.status == status && (message.isEmpty || run.stderr.contains(message)), "\(arguments.joined(separator: " ")): \(run)",
                    sourceLocation: sourceLocation)
        }

        // Refused by the daemon: 2, with the problem.
        let key = try KeyFile.read(from: cli.directory + "/" + miner)
        try await expect(["register", "--registrar", daemon.directory.registrarKeyPath, "--public-key", key.publicKey, "--participant", "miner-x",
                          "--legal-name", "Again", "--country", "BW", "--role", "miner"] + cli.server,
                         2, "refused: participant.register: ")
        try #"{"type":"parcel.extract","parcel":"P","site":"NOWHERE","carats":100,"stones":1,"extractedOn":"2026-01-01"}"#
            .write(toFile: cli.directory + "/extract.json", atomically: true, encoding: .utf8)
        try await expect(["sign", "--key", miner, "extract.json", "--out", "extract.envelope.json"], 0, "")
        try await expect(["submit", "extract.envelope.json"] + cli.server, 2, "refused: parcel.extract: ")
        // The demo with a registrar key this log does not know: its first step is refused.
        try await expect(["keygen", "--out", "stranger.key", "--participant", "registrar"], 0, "")
        try await expect(["demo", "--registrar", "stranger.key"] + cli.server, 2, "refused: participant.register: ")

        // A file that is missing, a directory, or empty where a checkpoint is needed: 1, naming the file.
        let missing = "cannot read /nonexistent: No such file or directory"
        try await expect(["submit", "/nonexistent"] + cli.server, 1, missing)
        try await expect(["sign", "--key", miner, "/nonexistent"], 1, missing)
        try await expect(["disclose", "--key", miner, "/nonexistent"] + cli.server, 1, missing)
        try await expect(["verify", "--since", "/nonexistent", "--log-only"] + cli.server, 1, missing)
        try await expect(["verify", "--since", "/dev/null", "--log-only"] + cli.server, 1, "--since /dev/null is empty")
        try await expect(["sign", "--key", miner, cli.directory], 1, "cannot read \(cli.directory): Is a directory")
        try await expect(["sign", "--key", "/nonexistent", "extract.json"], 1, missing)
        try await expect(["checkpoint", "--log-key", "data/log.vkye"] + cli.server, 1, "--log-key data/log.vkye: no such file")
        // A batch the daemon refuses as a whole is a refusal too: 2.
        try "[]".write(toFile: cli.directory + "/empty.json", atomically: true, encoding: .utf8)
        try await expect(["submit", "empty.json"] + cli.server, 2, "refused: batch: ")
        // An entry that is not in the log is not a usage error.
        try await expect(["prove", "--index", "999"] + cli.server, 1, "entry 999 is not in the log (tree size \(size))")

        // A malformed value: 64, and negative numbers reach the check that names them.
        try await expect(["extract", "--key", miner, "--site", "S", "--parcel", "Q", "--carats", "-1", "--stones", "1"] + cli.server,
                         64, "--carats -1: must not be negative")
        try await expect(["extract", "--key", miner, "--site", "S", "--parcel", "Q", "--points", "-5", "--stones", "1"] + cli.server,
                         64, "--points -5: must be positive")
        try await expect(["extract", "--key", miner, "--site", "S", "--parcel", "Q", "--carats", "1", "--stones", "-2"] + cli.server,
                         64, "stones must be between 1 and")
        try await expect(["prove", "--index", "-1"] + cli.server, 64, "The value '-1' is invalid for '--index <index>'")
        #expect(try await daemon.client.health().treeSize == size)
        try await daemon.stop()
    }

    @Test("cancel, reject and kp return from flags: the parcels are the sender's or exporter's again")
    func closingCommands() async throws {
        let daemon = try await LiveDaemon.start()
        let cli = try CustodyCLI(daemon: daemon)
        let miner = try await cli.participant("miner-3", country: "BW", roles: ["miner", "exporter"])
        let trader = try await cli.participant("trader-3", country: "BW", roles: ["trader"])
        let authority = try await cli.participant("bw-kp-3", country: "BW", roles: ["kp-authority"])
        _ = try await cli.participant("importer-3", country: "BE", roles: ["importer"])
        _ = try await cli.logged(["site", "register", "--key", miner, "--site", "S3", "--name", "Pit", "--country", "BW", "--region", "North",
                                  "--lat", "0", "--lon", "0", "--kind", "alluvial"])
        _ = try await cli.logged(["extract", "--key", miner, "--site", "S3", "--parcel", "P3", "--carats", "10", "--stones", "2"])

        let first = try await cli.logged(["transfer", "--key", miner, "--parcels", "P3", "--to", "trader-3"])
        _ = try await cli.logged(["cancel", "--key", miner, "--transfer", "\(first.index)", "--reason", "wrong consignee"])
        var p = try await daemon.client.parcel("P3")
        #expect(p.custodian == "miner-3" && p.status == "active")
        let second = try await cli.logged(["transfer", "--key", miner, "--parcels", "P3", "--to", "trader-3"])
        _ = try await cli.logged(["reject", "--key", trader, "--transfer", "\(second.index)", "--reason", "seal broken"])
        p = try await daemon.client.parcel("P3")
        #expect(p.custodian == "miner-3" && p.status == "active")
        #expect(p.history.map(\.type).suffix(4) == ["custody.transfer", "custody.cancel", "custody.transfer", "custody.reject"])

        _ = try await cli.logged(["kp", "export", "--key", miner, "--certificate", "BW-2026-C3", "--importing-country", "BE",
                                  "--importer", "importer-3", "--parcels", "P3", "--value-cents", "100000",
                                  "--issued-on", "2026-01-01", "--expires-on", "2026-02-01"])
        #expect(try await daemon.client.parcel("P3").status == "in-transit")
        _ = try await cli.logged(["kp", "return", "--key", authority, "--certificate", "BW-2026-C3", "--reason", "expired at the border"])
        p = try await daemon.client.parcel("P3")
        #expect(p.custodian == "miner-3" && p.status == "active" && p.history.last?.type == "kp.return")
        try await daemon.stop()
    }
}
