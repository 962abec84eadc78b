import CustodyDomain
import CustodyLedger
import CustodyModel
import CustodyProjections
import Hummingbird
import HummingbirdCore
import NIOCore

/// Provenance and sourcing status (`/v1/parcels/{id}/provenance`, `/v1/parcels/{id}/status`, `/v1/status`,
/// `/v1/policies`, `/v1/projections/digest`): public reads over the projections, each as of a tree size.
struct ProjectionController<Context: RequestContext>: Sendable {
    let desk: ProjectionDesk

    /// Largest page of `/v1/status`.
    static var maxPage: UInt64 { 500 }

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/parcels/:id/provenance", use: provenance)
        router.get("/v1/parcels/:id/status", use: status)
        router.get("/v1/status", use: list)
        router.get("/v1/policies", use: policies)
        router.get("/v1/projections/digest", use: digest)
    }

    @Sendable func provenance(request: Request, context: Context) async throws -> Response {
        let id = try parcelID(context)
        let asOf = try request.uri.queryParameters.optionalInteger("asOf")
        return Self.json(try desk.provenance(id, asOf: asOf))
    }

    @Sendable func status(request: Request, context: Context) async throws -> Response {
        let id = try parcelID(context)
        let q = request.uri.queryParameters
        guard let policy = q["policy"].map(String.init), !policy.isEmpty else {
            throw LedgerError(.invalidParameter, "query parameter policy is required (e.g. kp-core, kp-expanded, g7-russia, oecd-red-flags)",
                              parameter: "policy")
        }
        var date: String?
        if let text = q["date"].map(String.init) {
            guard Identifiers.isDate(text) else {
                throw LedgerError(.invalidParameter, "date \(text) is not a YYYY-MM-DD date", parameter: "date")
            }
            date = text
        }
        return Self.json(try desk.status(id, policy: policy, asOf: try q.optionalInteger("asOf"), date: date))
    }

    @Sendable func list(request: Request, context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        guard let policy = q["policy"].map(String.init), !policy.isEmpty else {
            throw LedgerError(.invalidParameter, "query parameter policy is required", parameter: "policy")
        }
        var status: SourcingStatus?
        if let text = q["status"].map(String.init) {
            guard let s = SourcingStatus(rawValue: text) else {
                throw LedgerError(.invalidParameter, "status \(text) is not one of compliant, at-risk, unverified, non-compliant", parameter: "status")
            }
            status = s
        }
        let limit = try q.optionalInteger("limit") ?? 100
        guard limit >= 1, limit <= Self.maxPage else {
            throw LedgerError(.invalidParameter, "limit must be between 1 and \(Self.maxPage), got \(limit)", parameter: "limit")
        }
        return Self.json(try desk.list(policy: policy, status: status, after: q["after"].map(String.init), limit: Int(limit),
                                       asOf: try q.optionalInteger("asOf")))
    }

    @Sendable func policies(request: Request, context: Context) async throws -> Response {
        Self.json(try desk.policies())
    }

    @Sendable func digest(request: Request, context: Context) async throws -> Response {
        Self.json(try desk.digest(asOf: try request.uri.queryParameters.optionalInteger("asOf")))
    }

    private func parcelID(_ context: Context) throws -> String {
        let id = try context.pathParameter("id")
        guard Identifiers.isID(id) else {
            throw LedgerError(.invalidParameter, "the parcel id is not a valid id", parameter: "id")
        }
        return id
    }

    static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(value))))
    }
}

extension FlatDictionary<Substring, Substring> {
    /// An optional non-negative integer parameter.
    func optionalInteger(_ name: String) throws(LedgerError) -> UInt64? {
        guard self[Substring(name)] != nil else { return nil }
        return try integer(name, default: nil)
    }
}
