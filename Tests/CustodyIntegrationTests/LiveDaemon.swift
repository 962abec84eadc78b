import CustodyClient
import CustodyCrypto
import CustodyLedger
import CustodyServer
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The real daemon (`buildApplication`, as custodyd runs it) on a free loopback port with a temporary
/// data directory; `stop()` shuts it down gracefully, as SIGTERM does.
final class LiveDaemon: Sendable {
    let dataDir: String
    let port: Int
    let client: LedgerClient
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(dataDir: String = NSTemporaryDirectory() + "custody-it-\(UUID().uuidString)",
                      maxBodyBytes: Int = 1 << 20) async throws -> LiveDaemon {
        var configuration = ServerConfiguration()
        configuration.dataDir = dataDir
        configuration.port = 0
        configuration.origin = "it.example/log"
        configuration.maxBodyBytes = maxBodyBytes
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "it")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: configuration, logger: logger) { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw DaemonStartError() }
        return LiveDaemon(dataDir: dataDir, port: port, group: group, task: task)
    }

    private init(dataDir: String, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.dataDir = dataDir
        self.port = port
        self.group = group
        self.task = task
        client = LedgerClient(baseURL: URL(string: "http://127.0.0.1:\(port)")!)
    }

    var baseURL: URL { client.baseURL }
    var directory: DataDirectory { DataDirectory(path: dataDir) }
    var registrarKey: KeyFile { try! KeyFile.read(from: directory.registrarKeyPath) }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// The daemon did not answer `/healthz` in time; `log` holds what it wrote to stderr, if it ran as a process.
struct DaemonStartError: Error, CustomStringConvertible {
    var log = ""
    var description: String { "the daemon did not start in time" + (log.isEmpty ? "" : "; its stderr:\n\(log.suffix(2_000))") }
}

/// A raw HTTP exchange, for bodies no well-behaved client would send.
struct RawResponse {
    let status: Int
    let contentType: String?
    let body: Data
    /// Header fields by lower-cased name.
    var headers: [String: String] = [:]
    var problem: Problem? { try? JSONDecoder().decode(Problem.self, from: body) }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

func rawRequest(_ url: URL, method: String = "POST", body: Data? = nil) async throws -> RawResponse {
    var request = URLRequest(url: url)
    request.httpMethod = method
    request.httpBody = body
    if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var headers: [String: String] = [:]
    for case let (name as String, value as String) in http.allHeaderFields { headers[name.lowercased()] = value }
    return RawResponse(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type"), body: data, headers: headers)
}
