import CustodyLedger
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Responses in the API's two media types: JSON documents and RFC 9457 problems.
enum APIResponse {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A body already encoded (the hand-written encoders of the hot responses).
    static func json(bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func problem(_ problem: Problem) -> Response {
        let data = (try? encoder.encode(problem)) ?? Data()
        return Response(status: HTTPResponse.Status(code: problem.status),
                        headers: [.contentType: "application/problem+json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A ledger error is answered as an RFC 9457 problem.
extension LedgerError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: kind.status) }
    public var headers: HTTPFields { [:] }
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = Problem(self)
        problem.detail = detail
        return APIResponse.problem(problem)
    }
}

/// Turns every error that reaches the edge into a problem document: unknown routes, oversized bodies,
/// and anything unexpected (logged, answered 500 without internals).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as LedgerError {
            return APIResponse.problem(Problem(error))
        } catch is NIOTooManyBytesError {
            return APIResponse.problem(Problem(LedgerError(.payloadTooLarge, "the request body is over the configured limit")))
        } catch let error as HTTPError {
            let detail = error.body ?? "\(request.method) \(request.uri.path) is not part of the API"
            // A status the API has a problem type for is answered as that type, with its one title.
            let kind: LedgerError.Kind? = switch error.status.code {
            case 404: .notFound
            case 405: .methodNotAllowed
            case 413: .payloadTooLarge
            default: nil
            }
            var response = APIResponse.problem(kind.map { Problem(LedgerError($0, detail)) }
                ?? Problem(type: "urn:custody:problem:http-\(error.status.code)", title: error.status.reasonPhrase,
                           status: error.status.code, detail: detail))
            response.headers.append(contentsOf: error.headers)
            return response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return APIResponse.problem(Problem(type: "urn:custody:problem:internal", title: "Internal error", status: 500,
                                               detail: "the server failed to handle the request; see its log"))
        }
    }
}
