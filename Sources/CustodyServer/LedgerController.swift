import CustodyCrypto
import CustodyLedger
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore

/// The HTTP API of the log (`/v1/...`), described by `Schemas/openapi.json`.
struct LedgerController<Context: RequestContext>: Sendable {
    let ledger: Ledger
    let maxBodyBytes: Int
    let openAPIDocument: ByteBuffer

    /// Largest page of entries or checkpoints.
    static var maxPage: Int { 1000 }

    /// The `limit` query parameter of a paged list: 1 to `maxPage`, 100 when absent.
    static func pageLimit(_ request: Request) throws(LedgerError) -> Int {
        let limit = try request.uri.queryParameters.integer("limit", default: 100)
        guard limit >= 1, limit <= UInt64(maxPage) else {
            throw LedgerError(.invalidParameter, "limit must be between 1 and \(maxPage), got \(limit)", parameter: "limit")
        }
        return Int(limit)
    }

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/events", use: submit)
        router.get("/v1/entries", use: entries)
        router.get("/v1/entries/:index", use: entry)
        router.get("/v1/checkpoint", use: checkpoint)
        router.get("/v1/checkpoints", use: checkpoints)
        router.get("/v1/proofs/inclusion", use: inclusion)
        router.get("/v1/proofs/consistency", use: consistency)
        router.get("/v1/participants", use: participants)
        router.get("/v1/parcels/:id", use: parcel)
        router.get("/healthz", use: health)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPIDocument))
        }
    }

    @Sendable func submit(request: Request, context: Context) async throws -> Response {
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        let json: [UInt8]
        switch try await ledger.submit(body: [UInt8](buffer: buffer)) {
        case .single(let result):
            json = try result.get().jsonBytes()
        case .batch(let results):
            json = BatchResult(results: results.enumerated().map { BatchItemResult($1, item: $0) }).jsonBytes()
        }
        return APIResponse.json(bytes: json)
    }

    @Sendable func entries(request: Request, context: Context) async throws -> Response {
        let start = try request.uri.queryParameters.integer("start", default: 0)
        let page = try ledger.entries(start: start, limit: try Self.pageLimit(request))
        return try APIResponse.json(EntriesPage(entries: page.map(EntryDTO.init)))
    }

    @Sendable func entry(request: Request, context: Context) async throws -> Response {
        guard let index = UInt64(try context.pathParameter("index")) else {
            throw LedgerError(.invalidParameter, "the entry index must be a non-negative integer", parameter: "index")
        }
        return try APIResponse.json(EntryDTO(try ledger.entry(at: index)))
    }

    @Sendable func checkpoint(request: Request, context: Context) async throws -> Response {
        APIResponse.text(ledger.latestCheckpoint.note)
    }

    @Sendable func checkpoints(request: Request, context: Context) async throws -> Response {
        let start = try request.uri.queryParameters.integer("start", default: 1)
        let page = try ledger.checkpoints(start: start, limit: try Self.pageLimit(request))
        return try APIResponse.json(CheckpointsPage(checkpoints: page.map { CheckpointDTO(treeSize: $0.size, note: $0.note) }))
    }

    @Sendable func inclusion(request: Request, context: Context) async throws -> Response {
        let index = try request.uri.queryParameters.integer("index", default: nil)
        let size = try request.uri.queryParameters.integer("size", default: ledger.treeSize)
        return APIResponse.json(bytes: try ledger.inclusionProof(index: index, size: size).jsonBytes())
    }

    @Sendable func consistency(request: Request, context: Context) async throws -> Response {
        let from = try request.uri.queryParameters.integer("from", default: nil)
        let to = try request.uri.queryParameters.integer("to", default: ledger.treeSize)
        return APIResponse.json(bytes: try ledger.consistencyProof(first: from, second: to).jsonBytes())
    }

    @Sendable func participants(request: Request, context: Context) async throws -> Response {
        try APIResponse.json(ParticipantsPage(participants: try ledger.participants()))
    }

    @Sendable func parcel(request: Request, context: Context) async throws -> Response {
        try APIResponse.json(try ledger.parcel(try context.pathParameter("id")))
    }

    @Sendable func health(request: Request, context: Context) async throws -> Response {
        try APIResponse.json(Health(status: "ok", treeSize: ledger.treeSize))
    }
}

extension FlatDictionary<Substring, Substring> {
    /// A non-negative integer query parameter; `default: nil` makes it required.
    func integer(_ name: String, default fallback: UInt64?) throws(LedgerError) -> UInt64 {
        guard let text = self[Substring(name)] else {
            guard let fallback else {
                throw LedgerError(.invalidParameter, "query parameter \(name) is required", parameter: name)
            }
            return fallback
        }
        guard let value = UInt64(text), value <= (1 << 53) - 1 else {
            throw LedgerError(.invalidParameter, "query parameter \(name)=\(text) is not a non-negative integer", parameter: name)
        }
        return value
    }
}
