import ArgumentParser
import CustodyClient
import CustodyCrypto
import CustodyLedger
import CustodySimulation
import Foundation

extension Custody {
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a realistic signed workload (KP-shaped trade, with problem cases) into a file or a daemon.",
            discussion: """
                Participants (keys derived from the seed, registered by the registrar), sites weighted by 2023 KP \
                production, exports and imports under KP certificates, splits and mixes in Antwerp, Dubai and Mumbai, \
                manufacture (mostly in India), grading and sales; --problems sets the share of production flows with a \
                problem case (site incidents, post-ban Russian rough mixed in Dubai, imports with no history, \
                implausible yields, artisanal sites without due diligence). Every event passes the custody rules when \
                appended in order from the start index. The same seed, registrar key and start index give the same bytes.
                """)

        @Option(parsing: .unconditional, help: "Envelopes to generate, set-up (participants, sites, attestations) included.") var events: Int
        @Option(parsing: .unconditional, help: "Seed of the generator.") var seed: UInt64 = 1
        @Option(parsing: .unconditional, help: "Share of production flows carrying a problem case, 0 to 1.") var problems: Double = 0.05
        @Option(name: .customLong("deep-lineage"), parsing: .unconditional, help: "Woven chains of at least 20 split/mix generations to build (pairs).")
        var deepLineage: Int = 0
        @Option(help: ArgumentHelp("Write the envelopes here, one JSON envelope per line.", valueName: "file.jsonl")) var out: String?
        @Option(help: "Submit the envelopes to custodyd at this URL, e.g. http://127.0.0.1:8080.") var server: String?
        @Option(help: ArgumentHelp("The registrar's key file (data/registrar.key). Needed with --server; with --out, without it the registrations are signed by a key derived from the seed, which no real log accepts.",
                                   valueName: "file"))
        var registrar: String?
        @Option(name: .customLong("start-index"), parsing: .unconditional, help: "With --out: the tree size of the log the file will be appended to (1 = a fresh log).")
        var startIndex: UInt64 = 1
        @Option(parsing: .unconditional, help: "Envelopes per POST (with --server) or per signing batch.") var batch: Int = 500

        func validate() throws {
            guard (out == nil) != (server == nil) else { throw ValidationError("give exactly one of --out and --server") }
            if server != nil, registrar == nil { throw ValidationError("--server needs --registrar (the log's registrar key file)") }
            guard (0...1).contains(problems) else { throw ValidationError("--problems must be between 0 and 1") }
            guard batch >= 1, batch <= 4_096 else { throw ValidationError("--batch must be between 1 and 4096") }
            guard events >= 1 else { throw ValidationError("--events must be positive") }
            guard deepLineage >= 0 else { throw ValidationError("--deep-lineage must not be negative") }
        }

        func run() async throws {
            let key: SigningKey, registrarID: String
            if let registrar {
                let file = try KeyFile.read(from: registrar)
                (key, registrarID) = (try file.signingKey(), file.participant)
            } else {
                key = try SigningKey(seed: SHA256.hash(Array("custody-simulation registrar \(seed)".utf8)))
                registrarID = "registrar"
            }
            var client: LedgerClient?
            var start = startIndex
            if let server {
                let c = try LedgerClient(server: server)
                start = try await c.health().treeSize
                client = c
            }
            let sim: Simulator
            do {
                sim = try Simulator(SimulationConfiguration(seed: seed, events: events, problemShare: problems, deepChains: deepLineage,
                                                            startIndex: start, registrar: key, registrarID: registrarID))
            } catch let error as SimulationError { throw ValidationError(error.description) }

            let progress = ProgressLine(total: events)
            var file: FileHandle?
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: nil) else { throw CommandFailure("cannot create \(out)") }
                file = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            }
            defer { try? file?.close() }
            while !sim.isFinished {
                let first = sim.nextIndex
                let envelopes = try await sim.nextBatch(max: batch)
                if let file {
                    var bytes: [UInt8] = []
                    for e in envelopes {
                        bytes += e.leafInput
                        bytes.append(0x0A)
                    }
                    try file.write(contentsOf: bytes)
                } else if let client {
                    var body: [UInt8] = [UInt8(ascii: "[")]
                    for (i, e) in envelopes.enumerated() {
                        if i > 0 { body.append(UInt8(ascii: ",")) }
                        body += e.leafInput
                    }
                    body.append(UInt8(ascii: "]"))
                    let result = try await client.submit(batch: Data(body))
                    for (i, item) in result.results.enumerated() {
                        let expected = first + UInt64(i)
                        guard let receipt = item.receipt, item.status == "accepted" else {
                            progress.finish()
                            let p = item.problem
                            throw CommandFailure("event \(expected) (\(envelopes[i].type) by \(envelopes[i].signer)) was refused: "
                                + "\(p?.rule ?? p?.title ?? "?"): \(p?.detail ?? "no detail")")
                        }
                        guard receipt.index == expected, !receipt.duplicate else {
                            progress.finish()
                            throw CommandFailure("event \(expected) got index \(receipt.index)\(receipt.duplicate ? " (a duplicate)" : ""): "
                                + "the log grew from elsewhere during the run, or this seed was already simulated on it; "
                                + "later transfers would name the wrong index, so the run stops")
                        }
                    }
                }
                progress.update(sim.emitted)
            }
            progress.finish()
            let end = start + UInt64(sim.emitted) - 1
            if let out {
                print("wrote \(grouped(sim.emitted)) envelopes to \(out) (one per line), for log indexes \(start)…\(end)")
                if registrar == nil { print("registrations signed by a registrar key derived from the seed: give --registrar for a file a log accepts") }
            } else {
                print("submitted \(grouped(sim.emitted)) events to \(server!): log indexes \(start)…\(end)")
            }
            print(summary(sim))
        }

        func summary(_ sim: Simulator) -> String {
            let s = sim.statistics
            var lines: [String] = []
            let problemFlows = s.problemFlows.values.reduce(0, +)
            let kinds = ProblemKind.allCases.compactMap { k in s.problemFlows[k].map { "\(k.rawValue) \($0)" } }.joined(separator: ", ")
            lines.append("production flows: \(grouped(s.flows)), \(grouped(problemFlows)) with a problem case" + (kinds.isEmpty ? "" : " (\(kinds))"))
            let total = s.totalExtracted
            let byCountry = s.extractedPoints.sorted { $0.value > $1.value }
                .map { "\($0.key) \(percent(Double($0.value) / Double(max(1, total))))" }.joined(separator: ", ")
            lines.append("extracted: \(grouped(Int(total / 100))) ct (\(byCountry))")
            lines.append(String(format: "rough crossing borders under KP certificates: %.2f × the extracted weight", s.crossingsPerProduction))
            lines.append("polishing kept \(percent(s.polishingYield)) of the rough's weight; \(percent(s.cuttingShare("IN"))) of the rough cut was cut in India")
            if !sim.deepLineageParcels.isEmpty {
                lines.append("deep-lineage parcels: \(grouped(sim.deepLineageParcels.count)), e.g. \(sim.deepLineageParcels[0])")
            }
            let types = s.eventsByType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ")
            lines.append("events: \(types)")
            return lines.joined(separator: "\n")
        }
    }
}

/// A progress line on standard error: events done, share, rate.
final class ProgressLine: @unchecked Sendable {
    private let total: Int
    private let started = Date()
    private var last = Date.distantPast
    private var shown = false

    init(total: Int) { self.total = total }

    func update(_ done: Int) {
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.25 || done == total else { return }
        last = now
        let rate = Double(done) / max(now.timeIntervalSince(started), 1e-3)
        let line = "\r\(grouped(done)) / \(grouped(total)) events (\(percent(Double(done) / Double(max(total, 1))))), \(grouped(Int(rate))) events/s   "
        FileHandle.standardError.write(Data(line.utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
        shown = false
    }
}

private func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return n < 0 ? "-" + out : out
}

private func percent(_ ratio: Double) -> String { String(format: "%.1f %%", ratio * 100) }
