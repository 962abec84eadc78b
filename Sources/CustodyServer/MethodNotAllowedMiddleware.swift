import CustodyLedger
import Hummingbird

/// Answers a path of the API asked with a method it does not take with 405 `method-not-allowed` and an `Allow`
/// header (RFC 9110 section 15.5.6), where the router alone answers 404 whenever path and method do not both match.
///
/// Added to the router after every route, so that it wraps only the router's not-found responder.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each route's path and the methods it takes, HEAD included wherever GET is (the router answers it).
    let routes: [(path: RouterPath, methods: Set<HTTPRequest.Method>)]

    /// A middleware for the routes of `router` so far.
    init(router: Router<Context>) {
        var byPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in router.routes {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method)
            if route.method == .get { byPath[route.path.description]!.methods.insert(.head) }
        }
        routes = Array(byPath.values)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = request.uri.path.split(separator: "/")
            let allowed = routes.filter { route in
                route.path.count == segments.count && zip(route.path, segments).allSatisfy { $0 ~= $1 }
            }.reduce(into: Set<HTTPRequest.Method>()) { $0.formUnion($1.methods) }
            guard !allowed.isEmpty else { throw error }
            let names = allowed.map(\.rawValue).sorted()
            var response = APIResponse.problem(Problem(LedgerError(
                .methodNotAllowed, "\(request.uri.path) does not take \(request.method); it takes \(names.joined(separator: ", "))")))
            response.headers[.allow] = names.joined(separator: ", ")
            return response
        }
    }
}
