import CustodyCrypto
import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyStore
import Dispatch
import Foundation
import Logging
import Synchronization

/// What the daemon serves about provenance and status: the projections of its own log, kept in step by a
/// background loop and caught up before every read, so an answer always reflects the whole log up to the
/// tree size it names.
public final class ProjectionDesk: Sendable {
    /// The ledger whose log is projected.
    public let ledger: Ledger
    /// The projection records.
    public let store: ProjectionStore
    /// The fold driver.
    public let projector: Projector
    /// The policy engine.
    public let engine: PolicyEngine
    private let logger: Logger
    private let follower = Mutex(FollowerState())
    private let stopped = DispatchSemaphore(value: 0)

    struct FollowerState {
        var thread: Thread?
        var stopping = false
    }

    /// Opens (or creates) the projections at `path` over `ledger`'s log, judging by `policies`.
    public init(ledger: Ledger, path: String, policies: PolicyLibrary,
                exportValue: @escaping @Sendable (UInt64) -> Int64? = { _ in nil }, logger: Logger) throws {
        self.ledger = ledger
        store = try ProjectionStore(path: path)
        projector = Projector(store: store, logger: logger)
        engine = PolicyEngine(library: policies, exportValue: exportValue)
        self.logger = logger
    }

    /// Folds whatever the log has that the projections do not.
    public func catchUp() throws {
        let size = ledger.treeSize
        try projector.catchUp(to: size) { start, limit in try ledger.entries(start: start, limit: limit) }
    }

    /// Starts a background thread that keeps the projections in step with the log. It runs at a lower
    /// scheduling priority than the sequencer and the HTTP threads, so folding (a long rebuild after an
    /// upgrade, or a burst of appends) yields the cores to appends and reads; reads catch up themselves first.
    public func startFollowing(every interval: Duration = .milliseconds(200)) {
        follower.withLock { state in
            guard state.thread == nil else { return }
            let thread = Thread { [self] in followLoop(interval) }
            thread.name = "custody-projections"
            state.thread = thread
            thread.start()
        }
    }

    /// Stops the background thread after the batch it is folding; returns when it has ended.
    public func stopFollowing() {
        let running = follower.withLock { state -> Bool in
            state.stopping = true
            return state.thread != nil
        }
        guard running else { return }
        stopped.wait()
    }

    private func followLoop(_ interval: Duration) {
        #if os(Linux)
        // Nice this thread only: on Linux, setpriority(PRIO_PROCESS, 0, …) applies to the calling thread
        // (see setpriority(2), "BUGS"). Folding is background work.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
        Thread.nameForKernel("custody-proj")
        let shouldStop = { self.follower.withLock { $0.stopping } }
        while !shouldStop() {
            do {
                let size = ledger.treeSize
                try projector.catchUp(to: size, entries: { start, limit in try self.ledger.entries(start: start, limit: limit) },
                                      shouldStop: shouldStop)
            } catch {
                logger.error("projection catch-up failed", metadata: ["error": "\(error)"])
            }
            let nanos = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
            Thread.sleep(forTimeInterval: Double(nanos) / 1e9)
        }
        stopped.signal()
    }

    /// Runs `body` on the projections caught up to the log, as of `asOf` (default: the current tree size).
    public func read<T>(asOf: UInt64?, _ body: (ProjectionQueries) throws -> T) throws -> T {
        try catchUp()
        let size = ledger.treeSize
        let view = asOf ?? size
        guard view <= size else {
            throw LedgerError(.invalidParameter, "asOf \(view) is beyond the current tree size \(size)", parameter: "asOf")
        }
        return try store.read { try body(ProjectionQueries($0, asOf: view)) }
    }

    /// `GET /v1/parcels/{id}/provenance`.
    public func provenance(_ parcel: String, asOf: UInt64?) throws -> JSONValue {
        try read(asOf: asOf) { q in
            guard let p = try q.provenance(parcel) else {
                throw LedgerError(.notFound, "no parcel \(parcel) in the log as of tree size \(q.asOf)")
            }
            return p.json
        }
    }

    /// `GET /v1/parcels/{id}/status`.
    public func status(_ parcel: String, policy: String, asOf: UInt64?, date: String?) throws -> JSONValue {
        try read(asOf: asOf) { q in
            let report: StatusReport?
            do { report = try engine.status(of: parcel, policy: policy, in: q, date: date) } catch let error as PolicyError {
                throw LedgerError(.invalidParameter, error.description, parameter: "policy")
            }
            guard let report else { throw LedgerError(.notFound, "no parcel \(parcel) in the log as of tree size \(q.asOf)") }
            return report.json
        }
    }

    /// `GET /v1/status`: parcels by status under a policy, in id order after `after`. Evaluates at most
    /// `scanLimit` parcels per call so a page costs bounded work; `next` resumes where it stopped.
    public func list(policy: String, status: SourcingStatus?, after: String?, limit: Int, asOf: UInt64?,
                     scanLimit: Int = 2_000) throws -> JSONValue {
        try read(asOf: asOf) { q in
            var items: [JSONValue] = []
            var cursor = after
            var scanned = 0
            var exhausted = false
            while items.count < limit && scanned < scanLimit {
                let ids = try q.parcelIDs(after: cursor, limit: min(200, scanLimit - scanned))
                if ids.isEmpty { exhausted = true; break }
                for id in ids {
                    scanned += 1
                    cursor = id
                    let report: StatusReport?
                    do { report = try engine.status(of: id, policy: policy, in: q) } catch let error as PolicyError {
                        throw LedgerError(.invalidParameter, error.description, parameter: "policy")
                    }
                    guard let report, status == nil || report.status == status else { continue }
                    items.append(.object(JSONObject([
                        ("parcel", .string(id)), ("status", .string(report.status.rawValue)),
                        ("reasons", .integer(Int64(report.reasons.count))),
                    ])))
                    if items.count == limit { break }
                }
            }
            var page = JSONObject([("policy", .string(policy)), ("asOf", .integer(Int64(q.asOf))), ("items", .array(items)),
                                   ("scanned", .integer(Int64(scanned)))])
            if !exhausted, let cursor { page.set("next", .string(cursor)) }
            return .object(page)
        }
    }

    /// `GET /v1/projections/digest`: the digest an auditor compares with its own rebuild.
    public func digest(asOf: UInt64?) throws -> JSONValue {
        try catchUp()
        let size = ledger.treeSize
        let view = asOf ?? size
        guard view <= size else {
            throw LedgerError(.invalidParameter, "asOf \(view) is beyond the current tree size \(size)", parameter: "asOf")
        }
        let (digest, records) = try ProjectionDigest.compute(store, asOf: view)
        return .object(JSONObject([("asOf", .integer(Int64(view))), ("records", .integer(Int64(records))),
                                   ("sha256", .string(Hex.encode(digest)))]))
    }

    /// `GET /v1/policies`: the policies this daemon evaluates.
    public func policies() throws -> JSONValue {
        try read(asOf: nil) { q in
            var out: [JSONValue] = []
            for name in engine.library.policyNames {
                let p = try engine.library.policy(name, in: q)
                out.append(.object(JSONObject([("policy", .string(p.name)), ("version", .string(p.version)), ("title", .string(p.title)),
                                               ("rules", .array(p.rules.map { .string($0.rule) }))])))
            }
            return .object(JSONObject([("policies", .array(out))]))
        }
    }
}

extension DataDirectory {
    /// The projections' file: derived data, deletable, rebuilt from the log on the next start.
    public var projectionsPath: String { path + "/projections.sqlite" }
}

// MARK: Wire form

extension Provenance {
    /// The wire form (`Schemas/provenance.schema.json`).
    public var json: JSONValue {
        var o = JSONObject()
        o.set("parcel", .string(parcel))
        o.set("asOf", .integer(Int64(asOf)))
        o.set("form", .string(form))
        o.set("carats", .integer(carats))
        o.set("stones", .integer(stones))
        o.set("custodian", .string(custodian))
        o.set("status", .string(status))
        if let pending { o.set("pending", .integer(Int64(pending))) }
        o.set("createdAt", .integer(Int64(createdAt)))
        o.set("createdBy", .string(createdBy))
        o.set("custody", .array(custody.map { link in
            .object(JSONObject([("custodian", .string(link.custodian)), ("from", .integer(Int64(link.from))),
                                ("indexes", .array(link.indexes.map { .integer(Int64($0)) }))]))
        }))
        o.set("events", .array(events.map { e in
            .object(JSONObject([("index", .integer(Int64(e.index))), ("type", .string(e.type)), ("signer", .string(e.signer)),
                                ("occurredAt", .string(e.occurredAt)), ("custodian", .string(e.custodian)), ("status", .string(e.status))]))
        }))
        o.set("lineage", .array(lineage.map { a in
            .object(JSONObject([("parcel", .string(a.parcel)), ("depth", .integer(Int64(a.depth))), ("child", .string(a.child)),
                                ("via", .string(a.via)), ("index", .integer(Int64(a.index))),
                                ("parentCarats", .integer(a.parentCarats)), ("outputCarats", .integer(a.outputCarats))]))
        }))
        o.set("origin", .array(origin.map { s in
            var share = JSONObject()
            share.set("root", .string(s.root))
            if let site = s.site { share.set("site", .string(site)) }
            if let country = s.country { share.set("country", .string(country)) }
            if let extractedOn = s.extractedOn { share.set("extractedOn", .string(extractedOn)) }
            share.set("declared", .bool(s.declared))
            share.set("recordedAt", .integer(Int64(s.recordedAt)))
            share.set("share", .string(s.share.description))
            share.set("approx", .string(s.share.decimal(digits: 6)))
            return .object(share)
        }))
        o.set("byCountry", .array(byCountry.map { c in
            var entry = JSONObject()
            entry.set("country", c.country.map(JSONValue.string) ?? .null)
            entry.set("share", .string(c.share.description))
            entry.set("approx", .string(c.share.decimal(digits: 6)))
            return .object(entry)
        }))
        return .object(o)
    }
}

extension StatusReport {
    /// The wire form (`Schemas/status-report.schema.json`).
    public var json: JSONValue {
        var o = JSONObject()
        o.set("parcel", .string(parcel))
        o.set("policy", .string(policy))
        o.set("policyVersion", .string(policyVersion))
        o.set("asOf", .integer(Int64(asOf)))
        o.set("date", .string(date))
        o.set("status", .string(status.rawValue))
        o.set("reasons", .array(reasons.map { r in
            var reason = JSONObject()
            reason.set("rule", .string(r.rule))
            reason.set("outcome", .string(r.outcome.rawValue))
            reason.set("message", .string(r.message))
            if let root = r.root { reason.set("root", .string(root)) }
            if let share = r.share { reason.set("share", .string(share.description)) }
            reason.set("indexes", .array(r.indexes.map { .integer(Int64($0)) }))
            return .object(reason)
        }))
        o.set("sources", .object(JSONObject(sources.keys.sorted().map { ($0, .string(sources[$0]!)) })))
        return .object(o)
    }
}
