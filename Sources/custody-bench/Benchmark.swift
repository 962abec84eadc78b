import CustodyCrypto
import CustodyLedger
import Foundation
import Logging

/// Everything one run measured; `Report` renders it.
struct BenchmarkResults: Sendable {
    var date: Date
    var command: String
    var machine: Machine
    var options: BenchOptions
    var raw: RawLimits
    /// Mean canonical body and leaf (stored envelope) sizes of the benchmark's events, bytes.
    var bodyBytes: Double
    var leafBytes: Double
    var inProcess: AppendOutcome
    /// The same pre-signed events on a second fresh log without the custody rules (keys still checked).
    var inProcessNoRules: AppendOutcome
    /// The realistic event mix in-process, with the custody rules and without them.
    var mixRules: AppendOutcome
    var mixNoRules: AppendOutcome
    var build: BuildOutcome
    var replaySmall: ReplayMeasurement
    var replayLarge: ReplayMeasurement
    /// The large log replayed without the custody rules: signatures, keys, hashes, tree and checkpoints alone.
    var replayLogOnly: ReplayMeasurement
    var idleRSSKiB: Int
    var proofTreeSize: UInt64
    var proofs: LatencySummary
    var httpProofs: LatencySummary
    /// HTTP appends with the custody rules and without them, each the sum of two passes.
    var httpBatch: HTTPAppendOutcome
    var httpSingle: HTTPAppendOutcome
    var httpBatchNoRules: HTTPAppendOutcome
    var httpSingleNoRules: HTTPAppendOutcome
    /// Requests that do little on the server (`HTTPLoad.floorRequests`): `GET /healthz`, and a POST refused at parsing.
    var httpFloorGet: HTTPAppendOutcome
    var httpFloorPost: HTTPAppendOutcome
    /// The all-cores verify rate measured again between phases, in order: the raw limits' own, then after the
    /// in-process appends, the event mix, the small replay, the build and its proofs, the large replays, and
    /// the HTTP appends (`Report` pairs each phase with the probes on either side of it by this order).
    var probes: [VerifyProbe]
    /// Verifications in each of a probe's three passes.
    var probeCount: Int
    var totalSeconds: Double
    /// Other processes' use of the machine during each phase.
    var load: [PhaseLoad]
}

/// The whole run, in an order that reuses work: the fresh log of the in-process measurement is replayed
/// at its small size, then grown into the large log, which is replayed, queried for proofs, and finally
/// served by the real daemon for the HTTP figures.
struct Benchmark {
    let options: BenchOptions
    let command: String

    /// Checkpoint origin of the benchmark's log.
    static let origin = "bench.custody.example/log"

    func run() async throws -> BenchmarkResults {
        let started = ContinuousClock.now
        let progress: (String) -> Void = { message in
            let elapsed = Format.fixed((ContinuousClock.now - started).seconds, 1)
            FileHandle.standardError.write(Data("[\(elapsed) s] \(message)\n".utf8))
        }
        let work = options.directory ?? NSTemporaryDirectory() + "custody-bench-\(getpid())"
        let fm = FileManager.default
        guard !fm.fileExists(atPath: work + "/data") else {
            throw BenchError("\(work)/data exists: the benchmark needs a fresh log")
        }
        // Remove afterwards only what the run created: a `--dir` given by the user stays, minus the log.
        let createdWork = !fm.fileExists(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !options.keep { try? fm.removeItem(atPath: createdWork ? work : work + "/data") } }
        progress("working directory \(work)")

        let machine = Machine.describe(workDirectory: work)
        let monitor = LoadMonitor()
        let whole = LoadSnapshot.now()
        let rawBench = RawLimitBenchmark(scratchDirectory: work, quick: options.quick)
        let raw = try await monitor.phase("raw limits") { try rawBench.run(progress: progress) }
        var probes = [VerifyProbe(after: "raw limits (the start of the run)", at: (ContinuousClock.now - started).seconds,
                                  rate: raw.verifyAllCores)]
        func probe(after phase: String) async {
            progress("all-cores verify again, after \(phase)")
            let rate = await monitor.phase("verify probe, after \(phase)") { rawBench.probeVerifyAllCores() }
            probes.append(VerifyProbe(after: phase, at: (ContinuousClock.now - started).seconds, rate: rate))
        }
        let directory = DataDirectory(path: work + "/data")
        var logger = Logger(label: "custody-bench")
        logger.logLevel = .warning
        let factory = EventFactory()

        let fresh = try await freshLog(directory, factory: factory, logger: logger, monitor: monitor, progress: progress)

        await probe(after: "the in-process appends")

        let (mixRules, mixNoRules) = try await mixFigures(work: work, logger: logger, monitor: monitor, progress: progress)

        await probe(after: "the event mix")
        progress("replay of the \(Format.grouped(Int(fresh.size)))-entry log in a child process")
        let replaySmall = try await monitor.phase("replay, small log") {
            try await ReplayChild.replay(databasePath: directory.databasePath, scratch: work)
        }
        guard replaySmall.entries == fresh.size else { throw BenchError("the small replay covered \(replaySmall.entries) entries") }
        await probe(after: "the small replay")

        progress("building the \(Format.grouped(options.entries))-entry log")
        let build = try await monitor.phase("building the large log") {
            try await LedgerLoad.grow(fresh.ledger, to: UInt64(options.entries), factory: factory,
                                      firstSeq: options.appends, progress: progress)
        }
        progress("in-process inclusion proofs")
        let proofs = try await monitor.phase("in-process proofs") {
            try LedgerLoad.inclusionProofs(fresh.ledger, count: options.proofs)
        }
        await fresh.ledger.close()
        await probe(after: "building the large log and its proofs")

        progress("replay of the \(Format.grouped(options.entries))-entry log in a child process")
        let idle = try await ReplayChild.idleBaselineKiB(scratch: work)
        // With the rules, alone twice, and with the rules again: each figure is two passes, as the append figures
        // are, and the VM's speed drifts over minutes, so the passes with the rules around the log-only ones
        // cancel a steady drift out of the rules' cost.
        func fullReplay() async throws -> ReplayMeasurement {
            let pass = try await monitor.phase("replay, large log") {
                try await ReplayChild.replay(databasePath: directory.databasePath, scratch: work)
            }
            guard pass.entries == UInt64(options.entries) else { throw BenchError("the large replay covered \(pass.entries) entries") }
            return pass
        }
        func logOnlyReplay() async throws -> ReplayMeasurement {
            progress("replay of the log alone (no custody rules) in a child process")
            let pass = try await monitor.phase("replay, large log, log only") {
                try await ReplayChild.replay(databasePath: directory.databasePath, scratch: work, logOnly: true)
            }
            guard pass.entries == UInt64(options.entries) else { throw BenchError("the log-only replay covered \(pass.entries) entries") }
            return pass
        }
        let replayFirst = try await fullReplay()
        let replayLogOnly = try await logOnlyReplay().combined(with: try await logOnlyReplay())
        progress("replay of the \(Format.grouped(options.entries))-entry log again, with the rules")
        let replayLarge = replayFirst.combined(with: try await fullReplay())
        await probe(after: "the large replays")

        let http = try await httpFigures(directory, factory: factory, logger: logger, monitor: monitor, progress: progress,
                                         afterAppends: { await probe(after: "the HTTP appends") })
        let load = monitor.phases + [PhaseLoad(phase: "whole run", from: whole, to: .now(), cores: machine.cores)]
        progress("done")
        return BenchmarkResults(
            date: Date(), command: command, machine: machine, options: options, raw: raw,
            bodyBytes: fresh.bodyBytes, leafBytes: fresh.leafBytes, inProcess: fresh.appends,
            inProcessNoRules: fresh.appendsNoRules, mixRules: mixRules,
            mixNoRules: mixNoRules, build: build,
            replaySmall: replaySmall, replayLarge: replayLarge, replayLogOnly: replayLogOnly, idleRSSKiB: idle,
            proofTreeSize: UInt64(options.entries), proofs: proofs, httpProofs: http.proofs,
            httpBatch: http.batch, httpSingle: http.single, httpBatchNoRules: http.batchNoRules,
            httpSingleNoRules: http.singleNoRules, httpFloorGet: http.floorGet, httpFloorPost: http.floorPost,
            probes: probes, probeCount: rawBench.probeCount, totalSeconds: (ContinuousClock.now - started).seconds,
            load: load)
    }

    private struct FreshLog {
        var ledger: Ledger
        var size: UInt64
        var appends: AppendOutcome
        var appendsNoRules: AppendOutcome
        var bodyBytes: Double
        var leafBytes: Double
    }

    /// Creates the log (genesis), registers the participants, and times `options.appends` pre-signed events
    /// through `Ledger.submit`. The pre-signed events are released when this returns.
    private func freshLog(_ directory: DataDirectory, factory: EventFactory, logger: Logger, monitor: LoadMonitor,
                          progress: (String) -> Void) async throws -> FreshLog {
        let (ledger, created) = try await directory.openLedger(origin: Self.origin, logger: logger)
        guard created else { throw BenchError("\(directory.path) already held a log") }
        let registrar = try KeyFile.read(from: directory.registrarKeyPath)
        // Participants first, then their sites, which need the participants' keys in the log.
        for result in await ledger.submit(factory.registrations(registrar: try registrar.signingKey(),
                                                                registrarID: registrar.participant)) {
            if case .failure(let error) = result { throw BenchError("registering participants: \(error)") }
        }
        for result in await ledger.submit(factory.sites()) {
            if case .failure(let error) = result { throw BenchError("registering sites: \(error)") }
        }
        progress("signing \(Format.grouped(options.appends)) events (not timed)")
        let events = await factory.events(0..<options.appends)
        let bodyBytes = Double(events.reduce(0) { $0 + $1.canonicalBody.count }) / Double(events.count)
        let leafBytes = Double(events.reduce(0) { $0 + $1.leafInput.count }) / Double(events.count)
        progress("in-process appends: \(options.tasks) tasks x batches of \(options.batch)")
        let appends = await monitor.phase("in-process appends") {
            await LedgerLoad.submitAll(events, to: ledger, tasks: options.tasks, batch: options.batch)
        }
        if let failure = appends.firstFailure { throw BenchError("in-process appends: \(failure)") }
        guard appends.accepted == events.count else {
            throw BenchError("in-process appends: \(appends.accepted) of \(events.count) accepted")
        }
        progress("in-process: \(Format.int(appends.rate)) appends/s")
        // Then without the rules and with them again, each on a fresh log: the two passes with the rules around
        // the one without cancel a steady drift of the VM's speed out of the rules' cost.
        let noRules = try await appendsOnAnotherLog(events, rules: false, factory: factory, work: directory.path + "-no-rules",
                                                    logger: logger, monitor: monitor, progress: progress)
        let again = try await appendsOnAnotherLog(events, rules: true, factory: factory, work: directory.path + "-again",
                                                  logger: logger, monitor: monitor, progress: progress)
        return FreshLog(ledger: ledger, size: ledger.treeSize, appends: appends.combined(with: again),
                        appendsNoRules: noRules, bodyBytes: bodyBytes, leafBytes: leafBytes)
    }

    /// The in-process measurement again, with the same pre-signed events, on another fresh log (same participants
    /// and sites), with or without the custody rules: without them, what the rules cost the core benchmark.
    private func appendsOnAnotherLog(_ events: [EventEnvelope], rules: Bool, factory: EventFactory, work: String, logger: Logger,
                                     monitor: LoadMonitor, progress: (String) -> Void) async throws -> AppendOutcome {
        let label = rules ? "in-process appends, again" : "in-process appends, rules off"
        let directory = DataDirectory(path: work)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (created, _) = try await directory.openLedger(origin: Self.origin, logger: logger)
        let registrar = try KeyFile.read(from: directory.registrarKeyPath)
        for result in await created.submit(factory.registrations(registrar: try registrar.signingKey(),
                                                                 registrarID: registrar.participant))
            + (await created.submit(factory.sites())) {
            if case .failure(let error) = result { throw BenchError("registering on the log of \(label): \(error)") }
        }
        let ledger = try await directory.reopen(created, rules: rules, logger: logger)
        progress("\(label): \(options.tasks) tasks x batches of \(options.batch)")
        let appends = await monitor.phase(rules ? "in-process appends" : "in-process appends, rules off") {
            await LedgerLoad.submitAll(events, to: ledger, tasks: options.tasks, batch: options.batch)
        }
        await ledger.close()
        if let failure = appends.firstFailure { throw BenchError("\(label): \(failure)") }
        guard appends.accepted == events.count else {
            throw BenchError("\(label): \(appends.accepted) of \(events.count) accepted")
        }
        progress("\(label): \(Format.int(appends.rate)) appends/s")
        return appends
    }

    /// The realistic event mix on fresh logs, with the custody rules and without them (keys only), in
    /// `mixPasses` alternating pairs; each figure is the median pass. One pass lasts only a few seconds, and
    /// single passes of the same build differed by several points of the rules' cost.
    private func mixFigures(work: String, logger: Logger, monitor: LoadMonitor, progress: (String) -> Void) async throws
        -> (AppendOutcome, AppendOutcome) {
        var on: [AppendOutcome] = [], off: [AppendOutcome] = []
        for pass in 0..<Self.mixPasses {
            for rules in [true, false] {
                let outcome = try await mixPass(rules: rules, name: (rules ? "mix-rules-" : "mix-no-rules-") + "\(pass)", work: work,
                                                logger: logger, monitor: monitor, progress: progress)
                if rules { on.append(outcome) } else { off.append(outcome) }
            }
        }
        func median(_ outcomes: [AppendOutcome]) -> AppendOutcome { outcomes.sorted { $0.rate < $1.rate }[outcomes.count / 2] }
        return (median(on), median(off))
    }

    static let mixPasses = 5

    private func mixPass(rules: Bool, name: String, work: String, logger: Logger, monitor: LoadMonitor,
                         progress: (String) -> Void) async throws -> AppendOutcome {
        let directory = DataDirectory(path: work + "/" + name)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let workload = MixWorkload(tag: name)
        let (ledger, registrar, registrarID) = try await MixWorkload.freshLedger(directory, workload: workload, rules: rules,
                                                                                 logger: logger)
        progress("signing \(Format.grouped(options.mixJourneys)) journeys of the event mix (not timed)")
        let journeys = await workload.journeys(0..<options.mixJourneys, registrar: registrar, registrarID: registrarID)
        progress("event mix, rules \(rules ? "on" : "off"): \(options.tasks) tasks")
        let outcome = await monitor.phase(rules ? "event mix, rules on" : "event mix, rules off") {
            await MixWorkload.run(journeys, on: ledger, tasks: options.tasks)
        }
        await ledger.close()
        if let failure = outcome.firstFailure { throw BenchError("event mix (rules \(rules ? "on" : "off")): \(failure)") }
        guard outcome.accepted == outcome.submitted else {
            throw BenchError("event mix: \(outcome.accepted) of \(outcome.submitted) accepted")
        }
        progress("event mix, rules \(rules ? "on" : "off"): \(Format.int(outcome.rate)) appends/s")
        return outcome
    }

    private struct HTTPFigures {
        var proofs: LatencySummary
        var batch: HTTPAppendOutcome
        var single: HTTPAppendOutcome
        var batchNoRules: HTTPAppendOutcome
        var singleNoRules: HTTPAppendOutcome
        var floorGet: HTTPAppendOutcome
        var floorPost: HTTPAppendOutcome
    }

    /// Starts the daemon on the large log and measures proofs, then batch and single-event appends: two passes
    /// with the custody rules and two without, in the order on, off, off, on, so that the log's growth and any
    /// drift of the machine weigh on both alike.
    private func httpFigures(_ directory: DataDirectory, factory: EventFactory, logger: Logger, monitor: LoadMonitor,
                             progress: (String) -> Void, afterAppends: () async -> Void) async throws -> HTTPFigures {
        // Sequence numbers past every event of the build, so nonces stay unique.
        var seq = options.entries
        // The daemon currently running; stopped gracefully (closing its ledger) on every way out.
        var server: LiveServer?
        func restart(rules: Bool) async throws -> LiveServer {
            if let running = server {
                server = nil
                try await running.stop()
            }
            progress("starting the daemon on the large log, custody rules \(rules ? "on" : "off")")
            let started = try await LiveServer.start(dataDir: directory.path, origin: Self.origin, rules: rules, logger: logger)
            server = started
            return started
        }
        func appends(on daemon: LiveServer, rules: Bool) async throws -> (batch: HTTPAppendOutcome, single: HTTPAppendOutcome) {
            let suffix = rules ? "" : ", rules off"
            progress("signing \(Format.grouped(options.httpBatchEvents)) batch events (not timed)")
            let batchEvents = await factory.events(seq..<seq + options.httpBatchEvents)
            seq += options.httpBatchEvents
            let bodies = HTTPLoad.batchBodies(batchEvents, perRequest: options.httpBatchSize)
            progress("HTTP batch appends\(suffix): \(options.httpConnections) connections x \(options.httpBatchSize) events per POST")
            let batch = await monitor.phase("HTTP batch appends" + suffix) {
                await HTTPLoad.postEvents(port: daemon.port, requests: bodies, eventsPerRequest: options.httpBatchSize,
                                          connections: options.httpConnections)
            }
            if let failure = batch.firstFailure { throw BenchError("HTTP batch appends\(suffix): \(failure)") }
            progress("HTTP batch\(suffix): \(Format.int(batch.rate)) appends/s")

            let singles = options.clients * options.perClient
            progress("signing \(Format.grouped(singles)) single events (not timed)")
            let singleBodies = await factory.events(seq..<seq + singles).map(\.leafInput)
            seq += singles
            progress("HTTP single-event appends\(suffix): \(options.clients) clients")
            let single = await monitor.phase("HTTP single-event appends" + suffix) {
                await HTTPLoad.postEvents(port: daemon.port, requests: singleBodies, eventsPerRequest: 1,
                                          connections: options.clients)
            }
            if let failure = single.firstFailure { throw BenchError("HTTP single-event appends\(suffix): \(failure)") }
            progress("HTTP single\(suffix): \(Format.int(single.rate)) appends/s")
            return (batch, single)
        }

        do {
            let withRules = try await restart(rules: true)
            progress("HTTP inclusion proofs on port \(withRules.port)")
            let proofs = try await monitor.phase("HTTP proofs") {
                try await HTTPLoad.inclusionProofs(port: withRules.port, size: UInt64(options.entries), count: options.httpProofs)
            }
            let on1 = try await appends(on: withRules, rules: true)
            let withoutRules = try await restart(rules: false)
            let off1 = try await appends(on: withoutRules, rules: false)
            let off2 = try await appends(on: withoutRules, rules: false)
            let daemon = try await restart(rules: true)
            let on2 = try await appends(on: daemon, rules: true)
            await afterAppends()
            // The HTTP stack's own floor, from the same clients: what single-event appends cannot exceed.
            var floors: [HTTPAppendOutcome] = []
            let singles = options.clients * options.perClient
            for request in HTTPLoad.floorRequests(refusing: await factory.events(seq..<seq + 1)[0]) {
                progress(request.label + ": \(options.clients) clients")
                let floor = await monitor.phase(request.label) {
                    await HTTPLoad.floor(port: daemon.port, method: request.method, target: request.target, body: request.body,
                                         status: request.status, requests: singles, connections: options.clients)
                }
                if let failure = floor.firstFailure { throw BenchError("\(request.label): \(failure)") }
                floors.append(floor)
            }
            let last = server
            server = nil
            try await last?.stop()
            return HTTPFigures(proofs: proofs, batch: on1.batch.combined(with: on2.batch),
                               single: on1.single.combined(with: on2.single),
                               batchNoRules: off1.batch.combined(with: off2.batch),
                               singleNoRules: off1.single.combined(with: off2.single),
                               floorGet: floors[0], floorPost: floors[1])
        } catch {
            try? await server?.stop()
            throw error
        }
    }
}
