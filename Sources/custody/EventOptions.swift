import ArgumentParser
import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import Foundation

/// A command that records one event. Its input errors are found only once it runs (a lot's weight, a builder's
/// check), where ArgumentParser would print the root command's usage under them: here they print alone, with the
/// usage-error status 64 that errors found while parsing get.
protocol EventCommand: AsyncParsableCommand {
    /// Builds, signs and records the event.
    func perform() async throws
}

extension EventCommand {
    func run() async throws {
        do { try await perform() } catch let error as ValidationError {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            throw ExitCode.validationFailure
        }
    }
}

/// What every event command shares: who signs, when, and what to do with the signed envelope.
struct EventOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The signer's key file.", valueName: "file")) var key: String
    @Option(help: "Participant id to sign as (default: the participant the key file names).") var signer: String?
    @Option(help: ArgumentHelp("When the event happened, RFC 3339 UTC (default: now). Dates the command defaults (--extracted-on, …) are this day.",
                               valueName: "time"))
    var occurredAt: String?
    @Option(help: "The body's nonce (default: 32 random hex characters).") var nonce: String?
    @OptionGroup var server: ServerOptions
    @OptionGroup var logKey: LogKeyOptions
    @Flag(help: "Sign and print the envelope without submitting it.") var dryRun = false
    @Option(help: ArgumentHelp("Write the signed envelope to this file instead of submitting it (submit it later with custody submit).",
                               valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Where to write the disclosure of a committed value (default: disclosures/<event id>.json).",
                               valueName: "file"))
    var disclosureOut: String?
    @Flag(help: "Print the receipt (or the refusal's problem) as JSON.") var json = false

    func validate() throws {
        if let occurredAt, RFC3339.millis(occurredAt) == nil {
            throw ValidationError("--occurred-at \(occurredAt): not an RFC 3339 UTC time like 2026-11-29T10:00:00Z")
        }
        if let nonce, !(8...128).contains(nonce.unicodeScalars.count) {
            throw ValidationError("--nonce: 8 to 128 characters, got \(nonce.unicodeScalars.count)")
        }
        if let signer, !Identifiers.isParticipantID(signer) {
            throw ValidationError("--signer \(signer): not a participant id (letters, digits and . _ : -, up to 128)")
        }
    }

    /// The event's time: --occurred-at, or now (fixed once per run).
    var time: String { occurredAt ?? Self.now }
    private static let now = RFC3339.format(millis: Int64(Date().timeIntervalSince1970 * 1000))

    /// The day of the event, the default of a command's date options.
    var today: String { String(time.prefix(10)) }

    /// The key file and the participant it signs for.
    func signingIdentity() throws -> (KeyFile, String) {
        let file: KeyFile
        do { file = try KeyFile.read(from: key) } catch { throw CommandFailure("--key: \(error)") }
        let participant = signer ?? file.participant
        guard !participant.isEmpty else { throw ValidationError("--key \(key) names no participant; give --signer") }
        return (file, participant)
    }

    /// The participant the key signs for (a default for --participant, --operator and the like).
    func signerID() throws -> String { try signingIdentity().1 }

    /// Signs `draft`, then prints it (--dry-run), writes it (--out), or submits it and prints the receipt. A
    /// refusal prints the problem and exits with status 2. Disclosures of committed values are written to files.
    func record(_ draft: EventDraft) async throws {
        let (file, participant) = try signingIdentity()
        let envelope: EventEnvelope
        do {
            envelope = try draft.signed(as: participant, with: try file.signingKey(), occurredAt: time, nonce: nonce ?? EventDraft.randomNonce())
        } catch let error as EventBuilderError {
            throw ValidationError("\(error)")
        }
        let openings = DisclosureFiles(draft: draft, eventID: envelope.eventIDHex, override: disclosureOut)
        if dryRun || out != nil {
            try openings.write(index: nil)
            let text = envelopeJSON(envelope) + "\n"
            if let out {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out))
                printStatus("signed \(draft.type) (event \(envelope.eventIDHex)); envelope written to \(out)")
            } else {
                print(text, terminator: "")
            }
            openings.report(index: nil)
            return
        }
        // The salt exists only here: keep it on disk before the event can reach the log.
        try openings.write(index: nil)
        let client = try server.client()
        let receipt: Receipt
        do {
            receipt = try await client.submit(envelope: Data(envelope.leafInput))
        } catch let error as ClientError {
            guard let problem = error.problem else {
                openings.report(index: nil, unknownOutcome: true)
                throw error
            }
            // A 4xx refusal stores nothing; after a 5xx the outcome is not certain, so the disclosure is kept.
            if problem.status < 500 { openings.remove() } else { openings.report(index: nil, unknownOutcome: true) }
            reportRefusal(problem, type: draft.type, json: json)
            throw ExitCode(2)
        }
        try openings.write(index: receipt.index)
        if let verifier = try logKey.verifier() { try verifyReceipt(receipt, verifier: verifier) }
        if json {
            print(try prettyJSON(receipt))
        } else {
            let verb = receipt.duplicate ? "already logged" : "logged"
            print("\(verb) #\(receipt.index) \(draft.type) by \(participant): event \(receipt.eventId), checkpoint size \(receipt.inclusionProof.treeSize)"
                  + (logKey.logKey == nil ? "" : " (checkpoint signature and inclusion proof checked)"))
        }
        openings.report(index: receipt.index)
    }

    /// A line for people that stays out of the way of JSON on standard output.
    func printStatus(_ line: String) {
        if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
    }
}

/// The disclosure files of one event: `{"index", "field", "salt", "value"}` (Schemas/disclosure.schema.json with the
/// log index and the commitment's JSON pointer, the form `custody disclose` reads), mode 0600.
struct DisclosureFiles {
    let items: [(path: String, opening: EventDraft.Disclosure)]

    init(draft: EventDraft, eventID: String, override: String?) {
        let many = draft.disclosures.count > 1
        items = draft.disclosures.map { opening in
            let name = many ? "\(eventID)-\(opening.field).json" : "\(eventID).json"
            let path = override.map { many ? "\($0).\(opening.field)" : $0 } ?? "disclosures/\(name)"
            return (path, opening)
        }
    }

    /// Writes the files; the first write (`index` nil) never replaces an existing file, which may hold an earlier salt.
    func write(index: UInt64?) throws {
        for (path, opening) in items {
            if index == nil, FileManager.default.fileExists(atPath: path) {
                throw ValidationError("\(path) exists: not replacing it (it may be the only copy of an earlier disclosure); give another --disclosure-out")
            }
            var object = JSONObject()
            if let index { object.set("index", .integer(Int64(index))) }
            object.set("field", .string("/" + opening.field))
            for (key, value) in opening.disclosure { object.set(key, value) }
            try writePrivate(Data((String(decoding: CanonicalJSON.encode(.object(object)), as: UTF8.self) + "\n").utf8), to: path)
        }
    }

    func remove() {
        for (path, _) in items { try? FileManager.default.removeItem(atPath: path) }
    }

    func report(index: UInt64?, unknownOutcome: Bool = false) {
        for (path, opening) in items {
            let line = unknownOutcome
                ? "the outcome is unknown; the disclosure of \(opening.field) is kept in \(path): if the event was logged, add \"index\" to it"
                : "disclosure of \(opening.field) written to \(path)\(index == nil ? " (without its log index: give custody disclose --index once the event is logged)" : ""); keep it, the clear value is not in the log"
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

/// Writes `data` to `path` with mode 0600 (creating its directory with mode 0700), durably (fsync), replacing it
/// atomically: a disclosure is the only copy of its salt.
func writePrivate(_ data: Data, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw CommandFailure("cannot create \(directory): \(error.localizedDescription)") }
    }
    let temp = path + ".tmp-\(getpid())"
    let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw CommandFailure("cannot create \(temp): \(String(cString: strerror(errno)))") }
    let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    let ok = written == data.count && fsync(fd) == 0
    close(fd)
    guard ok, rename(temp, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temp)
        throw CommandFailure("cannot write \(path): \(reason)")
    }
    SecureFile.syncDirectory(of: path)
}
