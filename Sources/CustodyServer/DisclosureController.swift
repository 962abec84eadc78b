import CustodyLedger
import CustodyModel
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The disclosure API (`/v1/disclosures`): parties deposit the clear values behind their events'
/// commitments, and parties and auditors read them. Every request must be signed (`SignedRequestAuthenticator`).
struct DisclosureController<Context: RequestContext>: Sendable {
    let desk: DisclosureDesk
    let authenticator: SignedRequestAuthenticator
    /// Largest deposit body accepted.
    let maxBodyBytes: Int

    /// A controller over `desk` that accepts keys registered in `ledger`.
    init(desk: DisclosureDesk, maxBodyBytes: Int) {
        self.desk = desk
        authenticator = SignedRequestAuthenticator(ledger: desk.ledger)
        self.maxBodyBytes = min(maxBodyBytes, 1 << 20)
    }

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/disclosures", use: deposit)
        router.get("/v1/disclosures", use: list)
    }

    /// `POST /v1/disclosures`: 201 with the stored disclosure, or 200 with the one stored before.
    @Sendable func deposit(request: Request, context: Context) async throws -> Response {
        let body = [UInt8](buffer: try await request.body.collect(upTo: maxBodyBytes))
        return Self.answering(request, context: context, withBody: true) { () throws(AccessError) -> Response in
            let caller = try authenticator.authenticate(request, body: body)
            let deposit = try DisclosureDeposit.parse(body)
            let (record, created) = try desk.deposit(deposit, by: caller)
            return Self.json(CanonicalJSON.encode(.object(record.jsonObject)), status: created ? .created : .ok)
        }
    }

    /// `GET /v1/disclosures?index=N`: the disclosures of entry N, for its parties and auditors.
    @Sendable func list(request: Request, context: Context) async throws -> Response {
        Self.answering(request, context: context, withBody: false) { () throws(AccessError) -> Response in
            let caller = try authenticator.authenticate(request, body: nil)
            let index: UInt64
            do throws(LedgerError) { index = try request.uri.queryParameters.integer("index", default: nil) } catch { throw AccessError(error) }
            return Self.json(DisclosureRecord.page(index: index, try desk.disclosures(at: index, for: caller)), status: .ok)
        }
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Runs `body`, answering an `AccessError` with its problem (and, on 401, what signature to send).
    static func answering(_ request: Request, context: Context, withBody: Bool,
                          _ body: () throws(AccessError) -> Response) -> Response {
        do {
            return try body()
        } catch {
            context.logger.info("request refused", metadata: [
                "problem": "\(error.problem.slug)", "http.status": "\(error.problem.status)",
                "http.method": "\(request.method)", "http.path": "\(request.uri.path)",
            ])
            var response = APIResponse.problem(error.problem)
            if error.problem.status == 401 {
                response.headers[SignedRequestAuthenticator.acceptSignatureName] = SignedRequestAuthenticator.acceptSignature(withBody: withBody)
            }
            return response
        }
    }
}
