import CustodyLedger
import Foundation

/// Appends measured over HTTP.
struct HTTPAppendOutcome: Sendable {
    /// Events sent.
    var events: Int
    /// Requests sent.
    var requests: Int
    /// Concurrent connections (one thread each).
    var connections: Int
    /// Events acknowledged as new entries.
    var accepted: Int
    /// Wall clock from the first request to the last response.
    var seconds: Double
    /// Per-request latency.
    var latency: LatencySummary
    /// The first unexpected response, if any.
    var firstFailure: String?
    /// CPU seconds used by the load generator's threads (on the same cores as the server).
    var clientCPUSeconds: Double

    var rate: Double { Double(accepted) / seconds }

    /// Two passes as one: their events over their summed time. The latency is the first pass's.
    func combined(with other: HTTPAppendOutcome) -> HTTPAppendOutcome {
        HTTPAppendOutcome(events: events + other.events, requests: requests + other.requests, connections: connections,
                          accepted: accepted + other.accepted, seconds: seconds + other.seconds, latency: latency,
                          firstFailure: firstFailure ?? other.firstFailure,
                          clientCPUSeconds: clientCPUSeconds + other.clientCPUSeconds)
    }
}

/// Load against the live server. Request bodies are prepared before the clock starts.
enum HTTPLoad {
    /// POSTs each request body in `requests` (already JSON) to `/v1/events`, spread over `connections`
    /// keep-alive connections, each waiting for its response before sending the next. Every response must
    /// report `eventsPerRequest` new entries.
    static func postEvents(port: Int, requests: [[UInt8]], eventsPerRequest: Int, connections: Int) async -> HTTPAppendOutcome {
        let outcome = await load(port: port, count: requests.count, connections: connections,
                                 request: { connection, i in try connection.request("POST", "/v1/events", body: requests[i]) },
                                 check: { response in try acceptedCount(response, expected: eventsPerRequest, single: eventsPerRequest == 1) })
        var counted = outcome
        counted.events = requests.count * eventsPerRequest
        return counted
    }

    /// Requests that do little on the server, from `connections` keep-alive connections as `postEvents` sends
    /// them: the rate that the HTTP stack and the load generator alone allow on this machine, a ceiling for
    /// single-event appends. Every response must have status `status`.
    static func floor(port: Int, method: String, target: String, body: [UInt8]?, status: Int, requests: Int,
                      connections: Int) async -> HTTPAppendOutcome {
        await load(port: port, count: requests, connections: connections,
                   request: { connection, _ in try connection.request(method, target, body: body) },
                   check: { response in
                       guard response.status == status else {
                           throw BenchError("status \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                       }
                       return 1
                   })
    }

    /// Sends requests `0..<count` round-robin over `connections` connections, one thread each, timing each
    /// `request(connection, i)`; `check` then tells what its response counts for (and throws if it is wrong).
    private static func load(port: Int, count: Int, connections: Int,
                             request: @escaping @Sendable (HTTPConnection, Int) throws -> HTTPConnection.Response,
                             check: @escaping @Sendable (HTTPConnection.Response) throws -> Int) async -> HTTPAppendOutcome {
        struct PerThread: Sendable {
            var accepted = 0
            var nanos: [UInt64] = []
            var failure: String?
            var cpu = 0.0
        }
        let start = ContinuousClock.now
        let perThread = await onThreads(connections) { t -> PerThread in
            var mine = PerThread()
            let connection: HTTPConnection
            do { connection = try HTTPConnection(port: port) } catch {
                mine.failure = "\(error)"
                return mine
            }
            for i in stride(from: t, to: count, by: connections) {
                let began = monotonicNanos()
                do {
                    let response = try request(connection, i)
                    mine.nanos.append(monotonicNanos() - began)
                    mine.accepted += try check(response)
                } catch {
                    mine.failure = "request \(i): \(error)"
                    return mine
                }
            }
            mine.cpu = threadCPUSeconds()
            return mine
        }
        let seconds = (ContinuousClock.now - start).seconds
        let nanos = perThread.flatMap(\.nanos)
        return HTTPAppendOutcome(events: count, requests: count, connections: connections,
                                 accepted: perThread.reduce(0) { $0 + $1.accepted }, seconds: seconds,
                                 latency: LatencySummary(nanos: nanos.isEmpty ? [0] : nanos),
                                 firstFailure: perThread.compactMap(\.failure).first,
                                 clientCPUSeconds: perThread.reduce(0) { $0 + $1.cpu })
    }

    /// The floor's two requests: `GET /healthz`, and a POST of an envelope of the benchmark's size that the
    /// daemon refuses while parsing (its key id in capitals), so no signature check and no commit.
    static func floorRequests(refusing envelope: EventEnvelope)
        -> [(label: String, method: String, target: String, body: [UInt8]?, status: Int)]
    {
        let refused = Array(String(decoding: envelope.leafInput, as: UTF8.self)
            .replacingOccurrences(of: envelope.keyID, with: envelope.keyID.uppercased()).utf8)
        return [("HTTP floor, GET /healthz", "GET", "/healthz", nil, 200),
                ("HTTP floor, POST /v1/events refused while parsing", "POST", "/v1/events", refused, 400)]
    }

    /// Checks one response: status 200, and for a batch every item accepted and none a duplicate.
    /// Counting the server's own fixed spellings (sorted-key JSON) avoids parsing 1.5 MB per batch
    /// on the load generator's share of the two cores.
    private static func acceptedCount(_ response: HTTPConnection.Response, expected: Int, single: Bool) throws -> Int {
        guard response.status == 200 else {
            throw BenchError("status \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        let fresh = response.body.occurrences(of: #""duplicate":false"#)
        if single {
            guard fresh == 1 else { throw BenchError("the receipt is not of a new entry") }
            return 1
        }
        let accepted = response.body.occurrences(of: #""status":"accepted""#)
        guard accepted == expected, fresh == expected else {
            throw BenchError("\(accepted) of \(expected) accepted (\(fresh) new): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return accepted
    }

    /// Times `count` inclusion-proof requests for random leaves of the tree of `size` entries, one at a
    /// time on one connection: the latency a client sees, HTTP round trip included.
    static func inclusionProofs(port: Int, size: UInt64, count: Int) async throws -> LatencySummary {
        let result = await onThreads(1) { _ -> Result<[UInt64], BenchError> in
            do {
                let connection = try HTTPConnection(port: port)
                var rng = SplitMix64(seed: 43)
                var nanos: [UInt64] = []
                for _ in 0..<count {
                    let index = UInt64.random(in: 0..<size, using: &rng)
                    let began = monotonicNanos()
                    let response = try connection.request("GET", "/v1/proofs/inclusion?index=\(index)&size=\(size)")
                    nanos.append(monotonicNanos() - began)
                    guard response.status == 200, response.body.occurrences(of: #""treeSize":\#(size)"#) == 1 else {
                        throw BenchError("proof of \(index): status \(response.status) \(String(decoding: response.body.prefix(200), as: UTF8.self))")
                    }
                }
                return .success(nanos)
            } catch let error as BenchError {
                return .failure(error)
            } catch {
                return .failure(BenchError("\(error)"))
            }
        }[0]
        return LatencySummary(nanos: try result.get())
    }

    /// JSON array bodies of `perRequest` envelopes each (the canonical envelope bytes, comma-joined).
    static func batchBodies(_ envelopes: [EventEnvelope], perRequest: Int) -> [[UInt8]] {
        stride(from: 0, to: envelopes.count, by: perRequest).map { start in
            var body: [UInt8] = [UInt8(ascii: "[")]
            for (i, envelope) in envelopes[start..<min(start + perRequest, envelopes.count)].enumerated() {
                if i > 0 { body.append(UInt8(ascii: ",")) }
                body += envelope.leafInput
            }
            body.append(UInt8(ascii: "]"))
            return body
        }
    }
}
