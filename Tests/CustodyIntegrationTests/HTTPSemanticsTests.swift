import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import Foundation
import Testing

@Suite("HTTP semantics of the API", .serialized)
struct HTTPSemanticsTests {
    @Test("an id holding / and : is read back from every parcel endpoint: percent-encoded by hand, by the client, by the CLI")
    func reservedCharactersInIDs() async throws {
        let daemon = try await LiveDaemon.start()
        let miner = SigningKey.generate()
        _ = try await daemon.client.submit(envelope: Data(try registration("miner-pe", key: miner, registrar: daemon.registrarKey).leafInput))
        let today = String(RFC3339.format(millis: Int64(Date().timeIntervalSince1970 * 1000)).prefix(10))
        for draft in [
            try EventDraft.siteRegister(site: "BW/S:1", name: "Pit", country: "BW", region: "Central", latE6: 0, lonE6: 0,
                                        kind: .artisanal, operator: "miner-pe"),
            try EventDraft.parcelExtract(parcel: "BW/JW:1", site: "BW/S:1", carats: 100, stones: 1, extractedOn: today),
        ] {
            _ = try await daemon.client.submit(envelope: Data(try draft.signed(as: "miner-pe", with: miner).leafInput))
        }

        let base = daemon.baseURL.absoluteString
        for path in ["/v1/parcels/BW%2FJW%3A1", "/v1/parcels/BW%2FJW%3A1/provenance", "/v1/parcels/BW%2FJW%3A1/status?policy=kp-core"] {
            let response = try await rawRequest(URL(string: base + path)!, method: "GET")
            #expect(response.status == 200, "\(path): \(String(decoding: response.body, as: UTF8.self))")
        }
        #expect(try await daemon.client.parcel("BW/JW:1").id == "BW/JW:1")
        #expect(try await daemon.client.provenance("BW/JW:1")["parcel"]?.stringValue == "BW/JW:1")
        #expect(try await daemon.client.status("BW/JW:1", policy: "kp-core")["parcel"]?.stringValue == "BW/JW:1")

        let cli = try CustodyCLI(daemon: daemon)
        let shown = try await cli.run(["parcel", "BW/JW:1"] + cli.server)
        #expect(shown.status == 0 && shown.stdout.hasPrefix("BW/JW:1: rough, 1.00 ct in 1 stone(s)"), "\(shown)")
        try await daemon.stop()
    }

    @Test("a problem with a query or path parameter names it in parameter; pointer stays a JSON pointer into the body")
    func parameterProblems() async throws {
        let daemon = try await LiveDaemon.start()
        let base = daemon.baseURL.absoluteString
        for (path, parameter) in [("/v1/entries?start=x", "start"), ("/v1/entries?limit=0", "limit"), ("/v1/entries/abc", "index"),
                                  ("/v1/proofs/inclusion", "index"), ("/v1/proofs/consistency?from=1&to=x", "to"),
                                  // Out of range, not malformed: the ledger names the parameter too.
                                  ("/v1/proofs/inclusion?index=0&size=99", "size"), ("/v1/proofs/inclusion?index=5&size=1", "index"),
                                  ("/v1/proofs/consistency?from=0", "from"), ("/v1/proofs/consistency?from=1&to=99", "to"),
                                  ("/v1/status", "policy"), ("/v1/status?policy=kp-core&limit=501", "limit"),
                                  ("/v1/parcels/P/status?policy=kp-core&date=2026-02-30", "date"),
                                  ("/v1/projections/digest?asOf=99", "asOf")] {
            let response = try await rawRequest(URL(string: base + path)!, method: "GET")
            #expect(response.status == 400 && response.problem?.slug == "invalid-parameter", "\(path): \(response)")
            #expect(response.problem?.parameter == parameter && response.problem?.pointer == nil, "\(path)")
        }
        // A body's problem keeps its pointer and has no parameter.
        let body = try await rawRequest(URL(string: base + "/v1/events")!, body: Data(#"{"body":{},"keyId":"x","signature":"y","z":1}"#.utf8))
        #expect(body.problem?.pointer == "/z" && body.problem?.parameter == nil, "\(body)")
        try await daemon.stop()
    }

    @Test("a known path asked with another method is 405 with Allow; HEAD is answered as GET without the body")
    func methods() async throws {
        let daemon = try await LiveDaemon.start()
        let base = daemon.baseURL.absoluteString
        for (method, path, allow) in [("PUT", "/v1/events", "POST"), ("GET", "/v1/events", "POST"), ("POST", "/v1/checkpoint", "GET, HEAD"),
                                      ("DELETE", "/v1/entries/0", "GET, HEAD"), ("PUT", "/v1/disclosures", "GET, HEAD, POST"),
                                      ("POST", "/v1/parcels/P/status", "GET, HEAD")] {
            let response = try await rawRequest(URL(string: base + path)!, method: method)
            #expect(response.status == 405 && response.problem?.slug == "method-not-allowed" && response.problem?.status == 405,
                    "\(method) \(path): \(response)")
            #expect(response.headers["allow"] == allow, "\(method) \(path)")
        }
        let unknown = try await rawRequest(URL(string: base + "/v1/nothing")!, method: "PUT")
        #expect(unknown.status == 404 && unknown.headers["allow"] == nil)

        for path in ["/healthz", "/v1/checkpoint", "/v1/entries/0", "/v1/entries/999"] {
            let get = try await rawRequest(URL(string: base + path)!, method: "GET")
            let head = try await rawRequest(URL(string: base + path)!, method: "HEAD")
            #expect(head.status == get.status && head.body.isEmpty && head.contentType == get.contentType, "HEAD \(path): \(head)")
            #expect(head.headers["content-length"] == String(get.body.count), "HEAD \(path): \(head.headers)")
        }
        try await daemon.stop()
    }

    @Test("a problem type has one title, whoever answers it: the router, a handler, or the OpenAPI document's examples")
    func problemTitles() async throws {
        let daemon = try await LiveDaemon.start()
        let base = daemon.baseURL.absoluteString
        var titles: [String: Set<String>] = [:]
        for (method, path) in [("GET", "/v1/nothing"), ("GET", "/v1/entries/999"), ("GET", "/v1/parcels/nope"), ("PUT", "/v1/events"),
                               ("GET", "/v1/entries?limit=0")] {
            let problem = try #require(try await rawRequest(URL(string: base + path)!, method: method).problem, "\(method) \(path)")
            titles[problem.type, default: []].insert(problem.title)
        }
        // Every problem shown in the OpenAPI document.
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let o):
                if case .string(let type)? = o["type"], type.hasPrefix("urn:custody:problem:"), case .string(let title)? = o["title"] {
                    titles[type, default: []].insert(title)
                }
                for (_, member) in o { collect(member) }
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        collect(try JSONParser.parse([UInt8](try await rawRequest(URL(string: base + "/openapi.json")!, method: "GET").body)))
        for kind in LedgerError.Kind.allCases {
            titles["urn:custody:problem:\(kind.rawValue)", default: []].insert(kind.title)
        }
        for (type, seen) in titles { #expect(seen.count == 1, "\(type) has titles \(seen.sorted())") }
        try await daemon.stop()
    }

    @Test("the OpenAPI document marks required exactly the query parameters the daemon requires")
    func documentedParameters() async throws {
        let daemon = try await LiveDaemon.start()
        let base = daemon.baseURL.absoluteString
        let document = try #require(try JSONParser.parse([UInt8](try await rawRequest(URL(string: base + "/openapi.json")!, method: "GET").body)).objectValue)
        let components = document["components"]?.objectValue?["parameters"]?.objectValue
        // A value each parameter accepts on a log of one entry (the genesis).
        let values = ["start": "0", "limit": "1", "index": "0", "size": "1", "from": "1", "to": "1", "policy": "kp-core", "asOf": "1",
                      "status": "compliant", "after": "A", "date": "2026-01-01"]
        var checked = 0
        for (path, item) in try #require(document["paths"]?.objectValue) where !path.contains("{") {
            guard let operation = item.objectValue?["get"]?.objectValue else { continue }
            let parameters = (operation["parameters"]?.arrayValue ?? []).compactMap { parameter -> JSONObject? in
                guard let p = parameter.objectValue else { return nil }
                guard let ref = p["$ref"]?.stringValue else { return p }
                return components?[String(ref.split(separator: "/").last!)]?.objectValue
            }
            // Signed endpoints (header parameters) answer 401 before looking at the query.
            guard !parameters.contains(where: { $0["in"]?.stringValue == "header" }) else { continue }
            let query = parameters.filter { $0["in"]?.stringValue == "query" }.compactMap { p -> (String, Bool)? in
                p["name"]?.stringValue.map { ($0, p["required"]?.boolValue ?? false) }
            }
            func get(_ names: [String]) async throws -> RawResponse {
                let q = names.map { "\($0)=\(values[$0]!)" }.joined(separator: "&")
                return try await rawRequest(URL(string: base + path + (q.isEmpty ? "" : "?" + q))!, method: "GET")
            }
            let all = try await get(query.map(\.0))
            #expect(all.status == 200, "\(path) with every parameter: \(all.problem?.detail ?? "")")
            for (name, required) in query {
                let without = try await get(query.map(\.0).filter { $0 != name })
                if required {
                    #expect(without.status == 400 && without.problem?.parameter == name, "\(path) without required \(name): \(without.status)")
                } else {
                    #expect(without.status == 200, "\(path) without optional \(name): \(without.problem?.detail ?? "")")
                }
                checked += 1
            }
        }
        #expect(checked >= 12)
        try await daemon.stop()
    }
}
