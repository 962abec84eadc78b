import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import CustodyStore
import Foundation
import Logging
import Synchronization

/// `custody-bench profile-appends`, `profile-replay`, `profile-http`, `profile-proofs` and `profile-parse`: one phase alone, reported as CPU time per event
/// (the whole process's and the sequencer thread's), which other processes' load on a shared machine
/// disturbs far less than wall-clock rates. For profiling (`perf record -p`), not for the report.
enum ProfileCommand {
    static let appends = "profile-appends"
    static let replay = "profile-replay"
    static let http = "profile-http"
    static let proofs = "profile-proofs"
    static let parse = "profile-parse"

    static func main(_ arguments: [String]) async -> Int32 {
        do {
            var rest = arguments.dropFirst()
            var count = 50_000, tasks = 8, batch = 512, dir: String?, keep = false
            var db: String?
            var mix = false, rules = true, floor = false
            var clients = 64
            var perRequest = 1
            var from = 0
            while let flag = rest.popFirst() {
                switch flag {
                case "--appends": count = Int(rest.popFirst() ?? "") ?? count
                case "--tasks": tasks = Int(rest.popFirst() ?? "") ?? tasks
                case "--batch": batch = Int(rest.popFirst() ?? "") ?? batch
                case "--dir": dir = rest.popFirst()
                case "--keep": keep = true
                case "--db": db = rest.popFirst()
                case "--mix": mix = true
                case "--floor": floor = true
                case "--rules-off": rules = false
                case "--clients": clients = Int(rest.popFirst() ?? "") ?? clients
                case "--per-request": perRequest = Int(rest.popFirst() ?? "") ?? perRequest
                // The first event number: profiling again over a log kept (`--dir`, `--keep`) needs new events.
                case "--from": from = Int(rest.popFirst() ?? "") ?? from
                default: throw BenchError("unknown argument \(flag)")
                }
            }
            if arguments.first == proofs {
                // Inclusion proofs over HTTP from the real daemon over an existing data directory.
                guard let dir else { throw BenchError("profile-proofs needs --dir DATA_DIR") }
                let size = try DatabaseAuditSource(path: DataDirectory(path: dir).databasePath).store!.read { try $0.treeSize() }
                var quiet = Logger(label: "profile")
                quiet.logLevel = .warning
                let server = try await LiveServer.start(dataDir: dir, origin: Benchmark.origin, logger: quiet)
                let summary = try await HTTPLoad.inclusionProofs(port: server.port, size: size, count: count)
                try await server.stop()
                print("HTTP inclusion proofs at \(size) entries: p50 \(Int(summary.p50)) µs, p99 \(Int(summary.p99)) µs, max \(Int(summary.max)) µs")
                return 0
            }
            if arguments.first == parse {
                // The cost of parsing stored envelope bytes, stage by stage, on one core.
                guard count > 0 else { throw BenchError("profile-parse needs --appends N with N > 0 (the number of envelopes)") }
                let bytes = await EventFactory().events(0..<count).map(\.leafInput)
                func perEvent(_ label: String, _ body: ([UInt8]) throws -> Void) rethrows {
                    let start = ContinuousClock.now
                    for b in bytes { try body(b) }
                    let d = ContinuousClock.now - start
                    let micros = Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
                    print("  \(label): \(Format.fixed(micros / Double(bytes.count), 2)) µs/event")
                }
                print("parsing \(bytes.count) envelopes of \(bytes.reduce(0) { $0 + $1.count } / bytes.count) bytes:")
                try perEvent("JSON parse to a value tree") { _ = try JSONParser.parse($0) }
                try perEvent("EventEnvelope.parse of the stored form (read in place, event id)") { _ = try EventEnvelope.parse($0) }
                try perEvent("EventEnvelope full parse (tree, canonical body, event id)") {
                    _ = try EventEnvelope.parse(try EventEnvelope.parseJSON($0))
                }
                let envelopes = try bytes.map { try EventEnvelope.parse($0) }
                var i = 0
                perEvent("canonical re-encoding of the body") { _ in _ = CanonicalJSON.encode(.object(envelopes[i].body)); i += 1 }
                i = 0
                perEvent("leafInput rebuilt") { _ in _ = envelopes[i].leafInput; i += 1 }
                perEvent("SHA-256 of the stored bytes") { _ = SHA256.hash($0) }
                // What an audit's rules read of each body (the catalogue, then an extraction's fields), from a
                // tree as an append has it, and in place as the audit reads stored bodies; alternated, as this
                // VM's speed drifts.
                func rulesRead(_ body: BodyReader, _ type: String) throws {
                    _ = CustodyRules.catalogue(type: type, body: body)
                    _ = try (body.id("site"), body.id("parcel"), body.integer("carats"), body.integer("stones"), body.date("extractedOn"))
                }
                for _ in 0..<3 {
                    i = 0
                    try perEvent("body for the rules as a tree: parse, read, free") { _ in
                        guard case .object(let o) = try JSONParser.parse(envelopes[i].canonicalBody) else { throw BenchError("not an object") }
                        try rulesRead(BodyReader(o), envelopes[i].type)
                        i += 1
                    }
                    i = 0
                    try perEvent("body for the rules in place: scan, read") { _ in
                        guard let view = CanonicalObjectView(envelopes[i].canonicalBody) else { throw BenchError("not plain canonical") }
                        try rulesRead(BodyReader(view), envelopes[i].type)
                        i += 1
                    }
                }
                return 0
            }
            if arguments.first == replay {
                guard let db else { throw BenchError("profile-replay needs --db PATH") }
                let before = CPUSample.now()
                var options = AuditOptions()
                options.custodyRules = rules
                // When the fold finished the last chunk: what follows is the comparison of the database's tables.
                let folded = Mutex(ContinuousClock.now)
                options.progress = { done, size in if done == size { folded.withLock { $0 = .now } } }
                let auditor = LogAuditor(source: try DatabaseAuditSource(path: db), options: options)
                let (report, seconds) = try await timedAsync { try await auditor.run() }
                let tail = (ContinuousClock.now - folded.withLock { $0 }).seconds
                let after = CPUSample.now()
                print(after.summary(since: before, events: Int(report.treeSize), seconds: seconds, label: rules ? "replay" : "replay, log only"))
                print("  after the last chunk (the tables compared): \(Format.fixed(tail, 2)) s of \(Format.fixed(seconds, 2)) s")
                return 0
            }
            let work = dir ?? NSTemporaryDirectory() + "custody-profile-\(getpid())"
            let directory = DataDirectory(path: work + "/data")
            defer { if !keep { try? FileManager.default.removeItem(atPath: work) } }
            var logger = Logger(label: "custody-bench")
            logger.logLevel = .warning
            if mix {
                let workload = MixWorkload(tag: "profile")
                let (ledger, registrar, registrarID) = try await MixWorkload.freshLedger(directory, workload: workload, rules: rules,
                                                                                         logger: logger)
                let journeys = await workload.journeys(0..<(count / 16), registrar: registrar, registrarID: registrarID)
                let before = CPUSample.now()
                let outcome = await MixWorkload.run(journeys, on: ledger, tasks: tasks)
                let after = CPUSample.now()
                if let f = outcome.firstFailure { throw BenchError(f) }
                print(after.summary(since: before, events: outcome.accepted, seconds: outcome.seconds,
                                    label: "event mix, rules \(rules ? "on" : "off")"))
                await ledger.close()
                return 0
            }
            var (ledger, _) = try await directory.openLedger(origin: Benchmark.origin, logger: logger)
            if !rules { ledger = try await directory.reopen(ledger, rules: false, logger: logger) }
            let factory = EventFactory()
            let registrar = try KeyFile.read(from: directory.registrarKeyPath)
            for r in await ledger.submit(factory.registrations(registrar: try registrar.signingKey(), registrarID: registrar.participant)) {
                if case .failure(let e) = r { throw BenchError("register: \(e)") }
            }
            for r in await ledger.submit(factory.sites()) { if case .failure(let e) = r { throw BenchError("sites: \(e)") } }
            let events = await factory.events(from..<from + count)
            if arguments.first == http {
                // POSTs to the real daemon over this data directory from `clients` connections: single events, or
                // batches of `--per-request`.
                await ledger.close()
                let server = try await LiveServer.start(dataDir: directory.path, origin: Benchmark.origin, rules: rules,
                                                        logger: logger)
                let bodies = perRequest == 1 ? events.map(\.leafInput) : HTTPLoad.batchBodies(events, perRequest: perRequest)
                let before = CPUSample.now()
                let outcome = await HTTPLoad.postEvents(port: server.port, requests: bodies, eventsPerRequest: perRequest,
                                                        connections: clients)
                let after = CPUSample.now()
                if let f = outcome.firstFailure { throw BenchError(f) }
                print(after.summary(since: before, events: outcome.accepted, seconds: outcome.seconds,
                                    label: "HTTP, \(perRequest) per request, \(clients) clients, rules \(rules ? "on" : "off")"))
                print("  latency p50 \(Format.fixed(outcome.latency.p50 / 1e3, 2)) ms, p99 \(Format.fixed(outcome.latency.p99 / 1e3, 2)) ms")
                if floor {
                    for (label, method, target, body, status) in HTTPLoad.floorRequests(refusing: events[0]) {
                        let before = CPUSample.now()
                        let outcome = await HTTPLoad.floor(port: server.port, method: method, target: target, body: body, status: status,
                                                           requests: count, connections: clients)
                        let after = CPUSample.now()
                        if let f = outcome.firstFailure { throw BenchError(f) }
                        print(after.summary(since: before, events: outcome.accepted, seconds: outcome.seconds, label: label))
                    }
                }
                try await server.stop()
                return 0
            }
            let before = CPUSample.now()
            let outcome = await LedgerLoad.submitAll(events, to: ledger, tasks: tasks, batch: batch)
            let after = CPUSample.now()
            if let f = outcome.firstFailure { throw BenchError(f) }
            print(after.summary(since: before, events: outcome.accepted, seconds: outcome.seconds,
                                label: "appends, rules \(rules ? "on" : "off")"))
            await ledger.close()
            if keep { print("kept \(directory.databasePath)") }
            return 0
        } catch {
            FileHandle.standardError.write(Data("profile: \(error)\n".utf8))
            return 1
        }
    }
}

/// CPU seconds of this process and of its named threads.
struct CPUSample {
    var process: Double
    var threads: [String: Double]

    static func now() -> CPUSample {
        var usage = rusage()
        getrusage(__rusage_who_t(0), &usage)  // RUSAGE_SELF
        let process = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
        var threads: [String: Double] = [:]
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let f = stat[stat.index(after: close)...].split(separator: " ")
            guard f.count > 13 else { continue }
            let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
            threads[name, default: 0] += ((Double(f[11]) ?? 0) + (Double(f[12]) ?? 0)) / ticks
        }
        return CPUSample(process: process, threads: threads)
    }

    /// CPU microseconds of one Ed25519 verification of a 400-byte message on this thread, now.
    static func verifyMicros() -> Double {
        let samples = RawLimitBenchmark.SignedSamples(count: 64, messageSize: 400)
        let start = threadCPUSeconds()
        var ok = 0
        for i in 0..<3_000 where samples.verify(i) { ok += 1 }
        precondition(ok == 3_000)
        return (threadCPUSeconds() - start) * 1e6 / 3_000
    }

    func summary(since before: CPUSample, events: Int, seconds: Double, label: String) -> String {
        let n = Double(events)
        let cpu = (process - before.process) * 1e6 / n
        let verify = Self.verifyMicros()
        var lines = ["\(label): \(events) events in \(Format.fixed(seconds, 2)) s = \(Format.int(n / seconds)) /s wall",
                     "  process CPU \(Format.fixed(cpu, 1)) µs/event -> \(Format.int(2e6 / cpu)) /s if 2 cores were ours",
                     "  one verify \(Format.fixed(verify, 1)) µs CPU: CPU-bound projection \(Format.percent(verify / cpu)) of all-cores verify"]
        for (name, value) in threads.sorted(by: { $0.value > $1.value }) {
            let d = value - (before.threads[name] ?? 0)
            if d * 1e6 / n >= 1 { lines.append("  thread \(name): \(Format.fixed(d * 1e6 / n, 1)) µs/event") }
            if name == "custody-seq" {
                lines.append("  sequencer-bound projection \(Format.percent(verify / (2 * d * 1e6 / n))) of all-cores verify")
            }
        }
        return lines.joined(separator: "\n")
    }
}
