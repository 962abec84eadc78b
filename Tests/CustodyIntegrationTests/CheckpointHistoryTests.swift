import CustodyClient
import CustodyCrypto
import CustodyLedger
import CustodyLog
import CustodyStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// A daemon's log as served, with changes on the way: what a dishonest or broken server could send.
private struct AlteredSource: AuditSource {
    let base: RemoteAuditSource
    var entries: @Sendable (LogEntry) -> LogEntry = { $0 }
    /// Nil: serve no checkpoints, as a daemon older than `GET /v1/checkpoints`.
    var checkpoints: (@Sendable ([(size: UInt64, note: String)]) -> [(size: UInt64, note: String)])? = { $0 }
    /// Serve none for the chunks before this size either, as a daemon upgraded during the audit.
    var servesFrom: UInt64 = 0

    var store: LogStore? { nil }
    func latestCheckpoint() async throws -> String { try await base.latestCheckpoint() }
    func entries(start: UInt64, limit: Int) async throws -> [LogEntry] {
        try await base.entries(start: start, limit: limit).map(entries)
    }
    func consistencyProof(first: UInt64, second: UInt64) async throws -> [[UInt8]]? {
        try await base.consistencyProof(first: first, second: second)
    }
    func checkpoints(after: UInt64, through: UInt64) async throws -> [(size: UInt64, note: String)]? {
        guard let checkpoints, after >= servesFrom else { return nil }
        return try await base.checkpoints(after: after, through: through).map(checkpoints)
    }
}

@Suite("the daemon's signed checkpoints, and the audit over HTTP that checks them all", .serialized)
struct CheckpointHistoryTests {
    /// A log of six entries, each committed alone (a checkpoint per entry) at a distinct millisecond.
    private static func sixEntryLog() async throws -> LiveDaemon {
        let daemon = try await LiveDaemon.start()
        let key = try await register("debswana", on: daemon)
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(10))
            _ = try await daemon.client.submit(envelope: Data(try siteEvent("debswana", key: key).leafInput))
        }
        return daemon
    }

    @Test("GET /v1/checkpoints pages the signed checkpoints, one per batch, in increasing size")
    func paging() async throws {
        let daemon = try await Self.sixEntryLog()
        let verifier = try NoteVerifier(encoded: String(contentsOfFile: daemon.directory.logVerifierKeyPath, encoding: .utf8))
        let all = try await daemon.client.checkpoints(start: 1, limit: 1000)
        #expect(all.map(\.treeSize) == [1, 2, 3, 4, 5, 6])
        for served in all {
            let checkpoint = try Checkpoint.open(served.note, verifier: verifier)
            #expect(checkpoint.size == served.treeSize)
            #expect(try checkpoint.previousSize == served.treeSize - 1)
        }
        #expect(all.last?.note == (try await daemon.client.checkpoint()))
        #expect(try await daemon.client.checkpoints(start: 3, limit: 2).map(\.treeSize) == [3, 4])
        #expect(try await daemon.client.checkpoints(start: 0, limit: 1).map(\.treeSize) == [1])
        #expect(try await daemon.client.checkpoints(start: 7, limit: 10).isEmpty)
        for bad in [0, 1001] {
            do {
                _ = try await daemon.client.checkpoints(start: 1, limit: bad)
                Issue.record("limit \(bad) was accepted")
            } catch let error as ClientError {
                #expect(error.status == 400 && error.problem?.parameter == "limit")
            }
        }
        try await daemon.stop()
    }

    @Test("an audit over HTTP checks every served checkpoint, and every entry's loggedAt against them")
    func auditChecksEveryCheckpoint() async throws {
        let daemon = try await Self.sixEntryLog()
        let source = RemoteAuditSource(client: daemon.client)
        let report = try await LogAuditor(source: source).run()
        #expect(report.treeSize == 6 && report.checkpointsChecked == 6)

        // An entry in the middle logged at another time: only its batch's checkpoint signs the real one.
        let entries = try await daemon.client.entries(start: 0, limit: 6)
        #expect(Set(entries.map(\.loggedAtMillis)).count == 6, "each entry should have been committed at its own millisecond")
        let earlier = entries[2].loggedAtMillis
        let moved = AlteredSource(base: source, entries: { entry in
            entry.index != 3 ? entry : LogEntry(index: 3, leafInput: entry.leafInput, leafHash: entry.leafHash,
                                               chainHash: entry.chainHash, loggedAtMillis: earlier)
        })
        let failure = try await #require(throws: AuditFailure.self) { try await LogAuditor(source: moved).run() }
        #expect(failure.index == 3 && failure.reason.contains("loggedAt differs"))

        // Without the served checkpoints the audit sees only the latest: the same change passes, as it did
        // against daemons that served no others.
        var blind = moved
        blind.checkpoints = nil
        #expect(try await LogAuditor(source: blind).run().checkpointsChecked == 1)
        try await daemon.stop()
    }

    @Test("a server that starts serving its checkpoints during the audit is audited as one that serves none")
    func servingStartsLate() async throws {
        let daemon = try await Self.sixEntryLog()
        // The first chunk, sizes 1 and 2, gets a 404; the later ones' checkpoints chain to size 2, never read.
        let late = AlteredSource(base: RemoteAuditSource(client: daemon.client), servesFrom: 2)
        let report = try await LogAuditor(source: late, options: AuditOptions(chunkSize: 2)).run()
        #expect(report.treeSize == 6 && report.checkpointsChecked == 1)
        try await daemon.stop()
    }

    @Test("a checkpoint left out of the served list is caught by the next one's previous size")
    func withheldCheckpoints() async throws {
        let daemon = try await Self.sixEntryLog()
        let source = RemoteAuditSource(client: daemon.client)

        let middle = AlteredSource(base: source, checkpoints: { $0.filter { $0.size != 4 } })
        let gap = try await #require(throws: AuditFailure.self) { try await LogAuditor(source: middle).run() }
        #expect(gap.index == 4 && gap.reason.contains("withheld"))

        let latest = AlteredSource(base: source, checkpoints: { $0.filter { $0.size != 6 } })
        let short = try await #require(throws: AuditFailure.self) { try await LogAuditor(source: latest).run() }
        #expect(short.reason.contains("end at size 5"))

        // A list out of order, repeating one, or reaching outside the chunk is refused as such, not folded.
        typealias Alteration = @Sendable ([(size: UInt64, note: String)]) -> [(size: UInt64, note: String)]
        let reversed: Alteration = { Array($0.reversed()) }
        let repeated: Alteration = { $0 + $0.suffix(1) }
        let sizeZero: Alteration = { [(size: 0, note: $0[0].note)] + $0 }
        for (label, alter) in [("reversed", reversed), ("repeated", repeated), ("size 0", sizeZero)] {
            let odd = AlteredSource(base: source, checkpoints: alter)
            let failure = try await #require(throws: AuditFailure.self, "\(label)") { try await LogAuditor(source: odd).run() }
            #expect(failure.reason.contains("the source listed a checkpoint of size"), "\(label): \(failure)")
        }
        try await daemon.stop()
    }
}

/// A stand-in for a daemon that answers `GET /v1/checkpoints` with a fixed status and body, as a daemon
/// without the endpoint (404) or a dishonest one would.
private struct CannedCheckpoints {
    let client: LedgerClient
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(status: HTTPResponse.Status, body: String) async throws -> CannedCheckpoints {
        let router = Router()
        router.get("/v1/checkpoints") { _, _ in
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "canned")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              }, logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw DaemonStartError() }
        return CannedCheckpoints(client: LedgerClient(baseURL: URL(string: "http://127.0.0.1:\(port)")!), group: group, task: task)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

@Suite("RemoteAuditSource against servers that do not serve checkpoints as the daemon does")
struct RemoteCheckpointListTests {
    @Test("a 404 means the server serves no checkpoints (an older daemon): nil, not an error")
    func notServed() async throws {
        let server = try await CannedCheckpoints.start(status: .notFound, body: #"{"type":"urn:custody:problem:not-found","title":"Not found","status":404,"detail":"no route"}"#)
        #expect(try await RemoteAuditSource(client: server.client).checkpoints(after: 0, through: 6) == nil)
        try await server.stop()
    }

    @Test("a list out of order ends the paging and is handed to the audit as it came, for the audit to refuse")
    func outOfOrder() async throws {
        let note = "it.example/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— it.example/log AAAA\n"
        let body = #"{"checkpoints":[{"treeSize":3,"note":"\#(note.replacingOccurrences(of: "\n", with: "\\n"))"},{"treeSize":2,"note":"x"},{"treeSize":4,"note":"y"}]}"#
        let server = try await CannedCheckpoints.start(status: .ok, body: body)
        let served = try #require(try await RemoteAuditSource(client: server.client).checkpoints(after: 0, through: 6))
        #expect(served.map(\.size) == [3, 2])
        #expect(served.first?.note == note)
        try await server.stop()
    }
}
