import CustodyCrypto
import CustodyLedger
import CustodyLog
import CustodyProjections
import CustodySimulation
import CustodyStore
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `custody-bench projections`: provenance and status latency on parcels with deep lineage, and full rebuilds
/// of the projections, on a log of realistic events built in-process by the simulator (`CustodySimulation`)
/// with the custody rules on. Prints a Markdown section (and writes it with `--out`).
///
/// `custody-bench projection-child DB SIZE SCRATCH RESULT` is the child side: it rebuilds the projections of
/// the first SIZE entries of DB into a fresh store at SCRATCH, so its peak memory is the rebuild's own.
enum ProjectionBench {
    static let subcommand = "projections"
    static let childSubcommand = "projection-child"

    struct Options {
        var entries = 1_000_000
        var sizes = [200_000, 1_000_000]
        var queries = 2_000
        var problems = 0.05
        var deepChains: Int?
        var seed: UInt64 = 1
        var directory: String?
        var keep = false
        var out: String?

        static let usage = """
            usage: custody-bench projections [--quick] [--entries N] [--sizes N,N] [--queries N] [--problems P]
                                             [--deep-chains N] [--seed S] [--dir DIR] [--keep] [--out FILE]
              defaults: a 1,000,000-entry simulated log, rebuilds at 200,000 and 1,000,000 entries,
                        2,000 timed queries of each kind, 5 % problem flows, one deep-lineage chain pair per 20,000 entries
              --quick   a 20,000-entry log, rebuilds at 5,000 and 20,000 entries, 500 queries
            """

        static func parse(_ arguments: ArraySlice<String>) throws -> Options {
            var o = Options()
            if arguments.contains("--quick") {
                o.entries = 20_000
                o.sizes = [5_000, 20_000]
                o.queries = 500
            }
            var rest = arguments
            func value(_ flag: String) throws -> String {
                guard let v = rest.popFirst() else { throw BenchError("\(flag) needs a value\n\(usage)") }
                return v
            }
            func number(_ flag: String) throws -> Int {
                let text = try value(flag)
                guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0 else { throw BenchError("\(flag) \(text) is not a positive integer") }
                return n
            }
            while let flag = rest.popFirst() {
                switch flag {
                case "--quick": break
                case "--keep": o.keep = true
                case "--entries": o.entries = try number(flag)
                case "--sizes": o.sizes = try value(flag).split(separator: ",").map { s in
                    guard let n = Int(s.replacingOccurrences(of: "_", with: "")), n > 0 else { throw BenchError("--sizes \(s) is not a positive integer") }
                    return n
                }
                case "--queries": o.queries = try number(flag)
                case "--problems":
                    guard let p = Double(try value(flag)), (0...1).contains(p) else { throw BenchError("--problems needs a share from 0 to 1") }
                    o.problems = p
                case "--deep-chains": o.deepChains = try number(flag)
                case "--seed": o.seed = UInt64(try number(flag))
                case "--dir": o.directory = try value(flag)
                case "--out": o.out = try value(flag)
                case "-h", "--help": throw BenchError(usage)
                default: throw BenchError("unknown argument \(flag)\n\(usage)")
                }
            }
            guard let largest = o.sizes.max(), largest <= o.entries else { throw BenchError("--sizes must not exceed --entries") }
            return o
        }
    }

    /// One rebuild measured in a child process.
    struct Rebuild {
        var entries: UInt64
        var seconds: Double
        var peakRSSKiB: Int
        var rate: Double { Double(entries) / seconds }
    }

    static func main(_ arguments: [String]) async -> Int32 {
        if arguments.first == childSubcommand { return childMain(arguments) }
        do {
            let options = try Options.parse(arguments.dropFirst())
            let section = try await run(options, command: (["custody-bench"] + arguments).joined(separator: " "))
            print(section)
            if let out = options.out { try section.write(toFile: out, atomically: true, encoding: .utf8) }
            return 0
        } catch {
            FileHandle.standardError.write(Data("custody-bench projections: \(error)\n".utf8))
            return 1
        }
    }

    static func run(_ options: Options, command: String) async throws -> String {
        let started = ContinuousClock.now
        let progress: (String) -> Void = { message in
            FileHandle.standardError.write(Data("[\(Format.fixed((ContinuousClock.now - started).seconds, 1)) s] \(message)\n".utf8))
        }
        let work = options.directory ?? NSTemporaryDirectory() + "custody-bench-projections-\(getpid())"
        let fm = FileManager.default
        guard !fm.fileExists(atPath: work + "/data") else { throw BenchError("\(work)/data exists: the benchmark needs a fresh log") }
        let createdWork = !fm.fileExists(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !options.keep { try? fm.removeItem(atPath: createdWork ? work : work + "/data") } }
        let machine = Machine.describe(workDirectory: work)
        let monitor = LoadMonitor()
        var logger = Logger(label: "custody-bench")
        logger.logLevel = .warning

        // 1. The log: simulated events through Ledger.submit, in order, rules on.
        let directory = DataDirectory(path: work + "/data")
        let (ledger, created) = try await directory.openLedger(origin: Benchmark.origin, logger: logger)
        guard created else { throw BenchError("\(directory.path) already held a log") }
        let registrar = try KeyFile.read(from: directory.registrarKeyPath)
        let deepChains = options.deepChains ?? max(2, options.entries / 20_000)
        let sim = try Simulator(SimulationConfiguration(seed: options.seed, events: options.entries - Int(ledger.treeSize),
                                                        problemShare: options.problems, deepChains: deepChains,
                                                        startIndex: ledger.treeSize, registrar: try registrar.signingKey(),
                                                        registrarID: registrar.participant))
        progress("building a \(Format.grouped(options.entries))-entry simulated log in \(work)")
        let (_, buildSeconds) = try await monitor.phase("building the simulated log") {
            try await timedAsync { try await build(sim, ledger, progress: progress) }
        }
        let size = ledger.treeSize
        guard size == UInt64(options.entries) else { throw BenchError("the log has \(size) entries, not \(options.entries)") }

        // 2. Projections in-process, then queries on the deep-lineage parcels.
        let projections = try ProjectionStore(path: work + "/projections.sqlite")
        let projector = Projector(store: projections)
        progress("projecting the log in-process")
        let (_, projectSeconds) = try await monitor.phase("projecting in-process") {
            try timed { try projector.catchUp(to: size) { try ledger.entries(start: $0, limit: $1) } }
        }
        await ledger.close()
        let engine = PolicyEngine(library: try PolicyLibrary())
        let policies = engine.library.policyNames
        var deep: [(parcel: String, depth: Int, ancestors: Int)] = []
        for id in sim.deepLineageParcels {
            let p = try projections.read { try ProjectionQueries($0, asOf: size).provenance(id) }
            guard let p else { continue }
            let depth = p.lineage.map(\.depth).max() ?? 0
            if depth >= 20 { deep.append((id, depth, p.lineage.count)) }
        }
        guard !deep.isEmpty else { throw BenchError("no parcel with 20 levels of lineage: raise --entries or --deep-chains") }
        progress("timing queries on \(deep.count) parcels with ≥ 20 levels of lineage")
        let latencies = await monitor.phase("provenance and status queries") {
            queryLatencies(projections, engine: engine, policies: policies, parcels: deep.map(\.parcel), size: size, count: options.queries)
        }
        var statuses: [String: [SourcingStatus: Int]] = [:]
        for (parcel, _, _) in deep {
            for policy in policies {
                let s = try projections.read { try engine.status(of: parcel, policy: policy, in: ProjectionQueries($0, asOf: size)) }
                statuses[policy, default: [:]][s?.status ?? .compliant, default: 0] += 1
            }
        }

        // 3. Full rebuilds in child processes at each size.
        let idle = try await ReplayChild.idleBaselineKiB(scratch: work)
        var rebuilds: [Rebuild] = []
        for n in options.sizes.sorted() {
            progress("full rebuild of the projections of the first \(Format.grouped(n)) entries in a child process")
            let r = try await monitor.phase("rebuild, \(Format.grouped(n)) entries") {
                try await spawnRebuild(database: directory.databasePath, size: n, scratch: work)
            }
            progress("rebuild: \(Format.int(r.rate)) entries/s, peak RSS \(Format.mebibytes(kib: r.peakRSSKiB))")
            rebuilds.append(r)
        }
        progress("done")
        return report(options: options, command: command, machine: machine, sim: sim, deepChains: deepChains, buildSeconds: buildSeconds,
                      size: size, projectSeconds: projectSeconds, deep: deep, latencies: latencies, policies: policies, statuses: statuses,
                      rebuilds: rebuilds, idleKiB: idle, load: monitor.phases, totalSeconds: (ContinuousClock.now - started).seconds)
    }

    /// Appends the simulator's events in order, one batch at a time, signing the next batch while the ledger
    /// appends the current one. Every event must be a new entry at the index the simulator expects.
    static func build(_ sim: Simulator, _ ledger: Ledger, progress: (String) -> Void) async throws {
        var pending = try await sim.nextBatch(max: 4_096)
        var first = ledger.treeSize
        var reported = 0
        while !pending.isEmpty {
            let batch = pending
            async let appended = ledger.submit(batch)
            let next = try await sim.nextBatch(max: 4_096)
            for (offset, result) in await appended.enumerated() {
                switch result {
                case .success(let receipt) where receipt.index == first + UInt64(offset) && !receipt.duplicate: continue
                case .success(let receipt):
                    throw BenchError("simulated event \(first + UInt64(offset)) got index \(receipt.index) (duplicate: \(receipt.duplicate))")
                case .failure(let error):
                    throw BenchError("simulated event \(first + UInt64(offset)) (\(batch[offset].type) by \(batch[offset].signer)) refused: \(error)")
                }
            }
            first += UInt64(batch.count)
            pending = next
            if sim.emitted - reported >= 65_536 || pending.isEmpty {
                reported = sim.emitted
                progress("build: \(Format.grouped(Int(ledger.treeSize))) entries")
            }
        }
    }

    struct Latencies {
        var provenance: LatencySummary
        var status: [String: LatencySummary]
        /// Provenance and the status under every policy, in one read transaction.
        var all: LatencySummary
    }

    /// Times `count` queries of each kind, cycling through `parcels`, each in its own read transaction as a
    /// request would be. One untimed pass first warms the caches.
    static func queryLatencies(_ store: ProjectionStore, engine: PolicyEngine, policies: [String], parcels: [String], size: UInt64,
                               count: Int) -> Latencies {
        func time(_ body: (String) throws -> Void) -> LatencySummary {
            var nanos: [UInt64] = []
            nanos.reserveCapacity(count)
            for i in 0..<count {
                let parcel = parcels[i % parcels.count]
                let start = monotonicNanos()
                try! body(parcel)
                nanos.append(monotonicNanos() - start)
            }
            return LatencySummary(nanos: nanos)
        }
        for parcel in parcels {
            _ = try! store.read { r in try policies.map { try engine.status(of: parcel, policy: $0, in: ProjectionQueries(r, asOf: size)) } }
        }
        let provenance = time { parcel in
            let p = try store.read { try ProjectionQueries($0, asOf: size).provenance(parcel) }
            precondition(p != nil)
        }
        var status: [String: LatencySummary] = [:]
        for policy in policies {
            status[policy] = time { parcel in
                let s = try store.read { try engine.status(of: parcel, policy: policy, in: ProjectionQueries($0, asOf: size)) }
                precondition(s != nil)
            }
        }
        let all = time { parcel in
            try store.read { r in
                let q = ProjectionQueries(r, asOf: size)
                let p = try q.provenance(parcel)
                precondition(p != nil)
                for policy in policies {
                    let s = try engine.status(of: parcel, policy: policy, in: q)
                    precondition(s != nil)
                }
            }
        }
        return Latencies(provenance: provenance, status: status, all: all)
    }

    // MARK: Child process

    static func childMain(_ arguments: [String]) -> Int32 {
        guard arguments.count == 5, let size = UInt64(arguments[2]) else {
            FileHandle.standardError.write(Data("usage: custody-bench projection-child DB SIZE SCRATCH RESULT\n".utf8))
            return 2
        }
        do {
            let log = try LogStore(readOnlyPath: arguments[1])
            let store = try ProjectionStore(path: arguments[3])
            let projector = Projector(store: store)
            let (_, seconds) = try timed {
                try projector.catchUp(to: size) { start, limit in try log.read { try $0.entries(start: start, limit: limit) } }
            }
            guard try store.appliedSize() == size else { throw BenchError("rebuilt \(try store.appliedSize()) entries, not \(size)") }
            try "\(size) \(seconds) \(peakResidentKiB())\n".write(toFile: arguments[4], atomically: true, encoding: .utf8)
            return 0
        } catch {
            FileHandle.standardError.write(Data("projection rebuild failed: \(error)\n".utf8))
            return 1
        }
    }

    static func spawnRebuild(database: String, size: Int, scratch: String) async throws -> Rebuild {
        let id = UUID().uuidString
        let resultPath = scratch + "/rebuild-result-\(id)", storePath = scratch + "/rebuild-\(id).sqlite"
        defer {
            for suffix in ["", "-wal", "-shm"] { unlink(storePath + suffix) }
            unlink(resultPath)
        }
        let executable = try selfExecutable()
        let argv = [executable, childSubcommand, database, String(size), storePath, resultPath]
        var cArgs = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, nil, nil, cArgs, environ)
        guard rc == 0 else { throw BenchError("posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        let child = pid
        let status = await onThreads(1) { _ -> Int32 in
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            return status
        }[0]
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { throw BenchError("projection-child failed (wait status \(status))") }
        let f = try String(contentsOfFile: resultPath, encoding: .utf8).split(whereSeparator: \.isWhitespace)
        guard f.count == 3, let n = UInt64(f[0]), let seconds = Double(f[1]), let kib = Int(f[2]) else {
            throw BenchError("projection-child wrote an unreadable result")
        }
        return Rebuild(entries: n, seconds: seconds, peakRSSKiB: kib)
    }

    /// This process's peak resident set (`VmHWM`), KiB.
    static func peakResidentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
        let fields = line.split(whereSeparator: \.isWhitespace)
        return fields.count >= 2 ? Int(fields[1]) ?? -1 : -1
    }

    static func selfExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw BenchError("cannot read /proc/self/exe") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Report

    static func report(options: Options, command: String, machine: Machine, sim: Simulator, deepChains: Int, buildSeconds: Double,
                       size: UInt64, projectSeconds: Double, deep: [(parcel: String, depth: Int, ancestors: Int)], latencies: Latencies,
                       policies: [String], statuses: [String: [SourcingStatus: Int]], rebuilds: [Rebuild], idleKiB: Int,
                       load: [PhaseLoad], totalSeconds: Double) -> String {
        func table(_ header: [String], _ rows: [[String]]) -> String {
            func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }
            return line(header) + line(header.map { _ in "---" }) + rows.map(line).joined()
        }
        func micros(_ us: Double) -> String { us < 1_000 ? "\(Format.int(us)) µs" : "\(Format.fixed(us / 1000, 2)) ms" }
        func lat(_ l: LatencySummary) -> String { [l.p50, l.p99, l.max].map(micros).joined(separator: " / ") }
        let s = sim.statistics
        let mix = s.eventsByType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "`\($0.key)` \(Format.percent(Double($0.value) / Double(s.events)))" }.joined(separator: ", ")
        let depths = deep.map(\.depth), ancestors = deep.map(\.ancestors)
        var rows: [[String]] = [
            ["building the log: \(Format.grouped(sim.emitted)) simulated events through `Ledger.submit` in order, rules on",
             "\(Format.fixed(buildSeconds, 1)) s = \(Format.int(Double(sim.emitted) / buildSeconds)) events/s (signing overlapped)"],
            ["projecting it in-process (`Projector.catchUp`, batches of 2,000)",
             "\(Format.fixed(projectSeconds, 1)) s = \(Format.int(Double(size) / projectSeconds)) entries/s"],
            ["`ProjectionQueries.provenance`: p50 / p99 / max", lat(latencies.provenance)],
        ]
        for policy in policies { rows.append(["`PolicyEngine.status`, \(policy): p50 / p99 / max", lat(latencies.status[policy]!)]) }
        rows.append(["provenance + status under all \(policies.count) policies, one read transaction: p50 / p99 / max", lat(latencies.all)])
        for r in rebuilds {
            rows.append(["full rebuild (fresh `ProjectionStore`, `Projector.catchUp` from index 0), \(Format.grouped(Int(r.entries))) entries",
                         "\(Format.fixed(r.seconds, 1)) s = \(Format.int(r.rate)) entries/s, peak RSS \(Format.mebibytes(kib: r.peakRSSKiB))"])
        }
        rows.append(["process that only starts and exits", "peak RSS \(Format.mebibytes(kib: idleKiB))"])

        var targets: [[String]] = []
        let worstStatus = latencies.status.values.map(\.p99).max() ?? 0
        targets.append(["provenance p99, ≥ 20 levels of lineage, \(Format.grouped(Int(size)))-entry log", "< 2 ms", micros(latencies.provenance.p99),
                        latencies.provenance.p99 < 2_000 ? "pass" : "**fail**"])
        targets.append(["status p99 (worst of the \(policies.count) policies), same parcels", "< 2 ms", micros(worstStatus),
                        worstStatus < 2_000 ? "pass" : "**fail**"])
        if let small = rebuilds.first, let large = rebuilds.last, large.entries > small.entries {
            let rateRatio = large.rate / small.rate
            targets.append(["rebuild time proportional to size: rate at \(Format.grouped(Int(large.entries))) over rate at \(Format.grouped(Int(small.entries)))",
                            "≥ 80 %", Format.percent(rateRatio), rateRatio >= 0.8 ? "pass" : "**fail**"])
            let growth = Double(large.peakRSSKiB - small.peakRSSKiB) / Double(small.peakRSSKiB)
            targets.append(["rebuild memory flat: peak RSS growth from \(Format.grouped(Int(small.entries))) to \(Format.grouped(Int(large.entries))) entries",
                            "< 10 %", Format.percent(growth), growth < 0.10 ? "pass" : "**fail**"])
        }
        let statusRows = policies.map { p -> [String] in
            [p] + SourcingStatus.allCases.map { Format.grouped(statuses[p]?[$0] ?? 0) }
        }
        return """
            ## Projections on a simulated log

            Measured by `\(command)` on \(ISO8601DateFormatter().string(from: Date())) in \(Format.fixed(totalSeconds / 60, 1)) minutes, \
            \(machine.cpuModel), \(machine.cores) cores, code \(machine.revision).

            The log: genesis, then \(Format.grouped(sim.emitted)) events from `CustodySimulation` (seed \(options.seed), \
            \(Format.percent(options.problems)) of production flows with a problem case, \(deepChains) woven deep-lineage chain pairs), \
            every one appended through `Ledger.submit` with the custody rules on. Event mix: \(mix). Rough crossed borders under KP \
            certificates \(Format.fixed(s.crossingsPerProduction, 2)) times its extracted weight; polishing kept \
            \(Format.percent(s.polishingYield)) of the weight; \(Format.percent(s.cuttingShare("IN"))) of the rough cut was cut in India.

            Queries: \(Format.grouped(options.queries)) of each kind, cycling through the \(deep.count) parcels with at least 20 levels of \
            lineage (depth \(depths.min()!)–\(depths.max()!), \(ancestors.min()!)–\(ancestors.max()!) ancestors), each in its own read \
            transaction, after one untimed warm-up pass. `status` computes the parcel's provenance itself. Rebuilds run in a child \
            process (`custody-bench projection-child`), whose own peak RSS (`VmHWM`) is reported.

            \(table(["figure", "value"], rows))
            Statuses of the deep-lineage parcels (count by policy):

            \(table(["policy"] + SourcingStatus.allCases.map(\.rawValue), statusRows))
            ### Targets

            \(table(["target", "threshold", "measured", "result"], targets))
            ### Load from other processes

            \(table(["phase", "seconds", "other processes", "steal"], load.map { [$0.phase, Format.fixed($0.seconds, 1), Format.percent($0.others), Format.percent($0.steal)] }))
            """
    }
}
