import CustodyCrypto
import CustodyLedger
import CustodyLog
import CustodyStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A request to the daemon failed: with the server's problem document when it sent one.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    /// The problem the server answered with, if any.
    public let problem: Problem?
    /// What went wrong.
    public let message: String
    /// The HTTP status of the server's answer; nil when there was none to read.
    public let status: Int?

    init(_ message: String, problem: Problem? = nil, status: Int? = nil) {
        self.message = message
        self.problem = problem
        self.status = status
    }

    /// The server's `<slug>: <detail>`, or the transport error.
    public var description: String {
        guard let problem else { return message }
        var s = "\(problem.slug)\(problem.rule.map { " (\($0))" } ?? ""): \(problem.detail)"
        if let pointer = problem.pointer { s += " (at \(pointer))" }
        if let parameter = problem.parameter { s += " (parameter \(parameter))" }
        if let index = problem.logIndex { s += " (log index \(index))" }
        return s
    }
}

/// HTTP client of the custodyd API.
public struct LedgerClient: Sendable {
    /// Base URL of the daemon, e.g. `http://127.0.0.1:8080`.
    public let baseURL: URL
    private let session: URLSession

    /// A client of the daemon at `baseURL`.
    public init(baseURL: URL) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
    }

    /// A client of `server` (a URL string); throws if it is not an http(s) URL.
    public init(server: String) throws {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ClientError("server \"\(server)\" is not an http:// or https:// URL")
        }
        self.init(baseURL: url)
    }

    /// Sends a request to the endpoint whose path segments are `path` (unencoded: each is encoded here, once).
    func send(_ method: String, _ path: [String], query: [String: String] = [:], body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: baseURL.endpoint(path, query: query))
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await session.data(for: request) } catch {
            throw ClientError("cannot reach \(baseURL.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError("no HTTP response from \(baseURL)") }
        guard (200..<300).contains(http.statusCode) else {
            let problem = try? JSONDecoder().decode(Problem.self, from: data)
            throw ClientError("HTTP \(http.statusCode) from /\(path.joined(separator: "/"))", problem: problem, status: http.statusCode)
        }
        return data
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ what: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw ClientError("the server's \(what) is not valid: \(error)")
        }
    }

    /// Submits one envelope (raw JSON bytes) and returns its receipt.
    public func submit(envelope: Data) async throws -> Receipt {
        try decode(Receipt.self, try await send("POST", ["v1", "events"], body: envelope), "receipt")
    }

    /// Submits a JSON array of envelopes; one result per item.
    public func submit(batch: Data) async throws -> BatchResult {
        try decode(BatchResult.self, try await send("POST", ["v1", "events"], body: batch), "batch result")
    }

    /// The latest signed checkpoint note.
    public func checkpoint() async throws -> String {
        String(decoding: try await send("GET", ["v1", "checkpoint"]), as: UTF8.self)
    }

    /// A page of signed checkpoints of sizes from `start`, in increasing size.
    public func checkpoints(start: UInt64, limit: Int) async throws -> [CheckpointDTO] {
        try decode(CheckpointsPage.self, try await send("GET", ["v1", "checkpoints"], query: ["start": "\(start)", "limit": "\(limit)"]),
                   "checkpoints").checkpoints
    }

    /// A page of entries.
    public func entries(start: UInt64, limit: Int) async throws -> [LogEntry] {
        let page = try decode(EntriesPage.self, try await send("GET", ["v1", "entries"], query: ["start": "\(start)", "limit": "\(limit)"]), "entries")
        return try page.entries.map { dto in
            guard let entry = dto.logEntry else { throw ClientError("entry \(dto.index) from the server is malformed") }
            return entry
        }
    }

    /// One entry.
    public func entry(_ index: UInt64) async throws -> LogEntry {
        let dto = try decode(EntryDTO.self, try await send("GET", ["v1", "entries", "\(index)"]), "entry")
        guard let entry = dto.logEntry else { throw ClientError("entry \(index) from the server is malformed") }
        return entry
    }

    /// An inclusion proof.
    public func inclusionProof(index: UInt64, size: UInt64) async throws -> InclusionProof {
        try decode(InclusionProof.self, try await send("GET", ["v1", "proofs", "inclusion"], query: ["index": "\(index)", "size": "\(size)"]), "inclusion proof")
    }

    /// A consistency proof.
    public func consistencyProof(first: UInt64, second: UInt64) async throws -> ConsistencyProof {
        try decode(ConsistencyProof.self, try await send("GET", ["v1", "proofs", "consistency"], query: ["from": "\(first)", "to": "\(second)"]), "consistency proof")
    }

    /// Every registered participant.
    public func participants() async throws -> [ParticipantDTO] {
        try decode(ParticipantsPage.self, try await send("GET", ["v1", "participants"]), "participants").participants
    }

    /// A parcel's state and history.
    public func parcel(_ id: String) async throws -> ParcelDTO {
        try decode(ParcelDTO.self, try await send("GET", ["v1", "parcels", id]), "parcel")
    }

    /// `/healthz`.
    public func health() async throws -> Health {
        try decode(Health.self, try await send("GET", ["healthz"]), "health")
    }
}

extension URL {
    /// The endpoint under this base URL whose path segments are `segments`, each percent-encoded exactly once
    /// (so an id such as `BW/JW:1` stays one segment, `BW%2FJW:1`), with `query` in name order.
    func endpoint(_ segments: [String], query: [String: String] = [:]) -> URL {
        var components = URLComponents(url: self, resolvingAgainstBaseURL: false)!
        let base = components.percentEncodedPath.hasSuffix("/") ? components.percentEncodedPath : components.percentEncodedPath + "/"
        let segmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        components.percentEncodedPath = base + segments.map { $0.addingPercentEncoding(withAllowedCharacters: segmentAllowed)! }
            .joined(separator: "/")
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        return components.url!
    }
}

/// Audits a daemon over HTTP.
public struct RemoteAuditSource: AuditSource {
    /// The client.
    public let client: LedgerClient
    /// A remote source never exposes its store.
    public var store: LogStore? { nil }

    /// A source reading from `client`.
    public init(client: LedgerClient) { self.client = client }

    /// The daemon's latest checkpoint.
    public func latestCheckpoint() async throws -> String { try await client.checkpoint() }

    /// Entries, paged at the API's limit.
    public func entries(start: UInt64, limit: Int) async throws -> [LogEntry] {
        try await client.entries(start: start, limit: min(limit, 1000))
    }

    /// The daemon's checkpoints of sizes in `after + 1 ... through`, paged at the API's limit; nil from a
    /// daemon that serves none (one older than `GET /v1/checkpoints`, which answers 404).
    public func checkpoints(after: UInt64, through: UInt64) async throws -> [(size: UInt64, note: String)]? {
        var found: [(size: UInt64, note: String)] = []
        var start = after + 1
        while start <= through {
            let page: [CheckpointDTO]
            do { page = try await client.checkpoints(start: start, limit: 1000) } catch let error as ClientError where error.status == 404 {
                return nil
            }
            for checkpoint in page where checkpoint.treeSize <= through {
                found.append((checkpoint.treeSize, checkpoint.note))
                // Out of order: paging stops, and the audit refuses the list as the server's failure (`Replay.fold`
                // checks every source's list), not as a transport error.
                guard checkpoint.treeSize >= start else { return found }
                start = checkpoint.treeSize + 1
            }
            guard page.count == 1000, let last = page.last, last.treeSize < through else { break }
        }
        return found
    }

    /// The daemon's consistency proof.
    public func consistencyProof(first: UInt64, second: UInt64) async throws -> [[UInt8]]? {
        guard let path = try await client.consistencyProof(first: first, second: second).path else {
            throw ClientError("consistency proof from the server is not base64")
        }
        return path
    }
}
