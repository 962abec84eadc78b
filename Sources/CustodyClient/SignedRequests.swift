import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Signs requests with a participant's registered key: RFC 9421 HTTP Message Signatures with Ed25519,
/// covering `@method`, `@authority`, `@path`, `@query` and, for a request with a body, `content-digest`
/// (RFC 9530, sha-256), with `created` (now), `keyid` (the key id) and `alg="ed25519"`. The daemon builds
/// the same signature base from the same code (`HTTPMessageSignatures`).
public struct RequestSigner: Sendable {
    /// The signing key.
    public let key: SigningKey
    /// Its key id (the `keyid` parameter).
    public var keyID: String { key.publicKey.keyID }
    /// The signature label used in `Signature-Input` and `Signature`.
    public var label = "sig1"

    /// A signer with `key`.
    public init(key: SigningKey) { self.key = key }

    /// A signer with the key of a key file.
    public init(keyFile: KeyFile) throws { key = try keyFile.signingKey() }

    /// The request as the signature sees it, from a URL request (percent-encoding kept as it will be sent).
    public static func message(of request: URLRequest) throws -> HTTPMessageSignatures.Request {
        guard let url = request.url, let components = URLComponents(url: url, resolvingAgainstBaseURL: true),
              let scheme = components.scheme, let host = components.percentEncodedHost
        else { throw ClientError("cannot sign a request without an absolute http(s) URL") }
        var authority = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port { authority += ":\(port)" }
        let fields = (request.allHTTPHeaderFields ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        return HTTPMessageSignatures.Request(method: request.httpMethod ?? "GET", scheme: scheme, authority: authority,
                                             path: components.percentEncodedPath, query: components.percentEncodedQuery,
                                             fields: fields)
    }

    /// Signs `request` in place: sets `Content-Digest` when it has a body, then `Signature-Input` and
    /// `Signature`. `created` defaults to now (Unix seconds).
    public func sign(_ request: inout URLRequest, created: Int64 = Int64(Date().timeIntervalSince1970)) throws {
        var components = ["@method", "@authority", "@path", "@query"]
        if let body = request.httpBody {
            request.setValue(ContentDigest.sha256([UInt8](body)), forHTTPHeaderField: "Content-Digest")
            components.append("content-digest")
        }
        let input = HTTPMessageSignatures.input(components: components, created: created, keyID: keyID)
        let fields = try HTTPMessageSignatures.sign(try Self.message(of: request), input: input, key: key, label: label)
        request.setValue(fields.signatureInput, forHTTPHeaderField: "Signature-Input")
        request.setValue(fields.signature, forHTTPHeaderField: "Signature")
    }
}

/// The signed part of the daemon's API: deposit and read disclosures of committed values.
public struct DisclosureClient: Sendable {
    /// Base URL of the daemon.
    public let baseURL: URL
    /// Signs every request.
    public let signer: RequestSigner
    private let session: URLSession

    /// A client of the daemon at `baseURL` signing with `signer`.
    public init(baseURL: URL, signer: RequestSigner) {
        self.baseURL = baseURL
        self.signer = signer
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
    }

    /// A client of `server` (an http(s) URL string) signing with `signer`.
    public init(server: String, signer: RequestSigner) throws {
        self.init(baseURL: try LedgerClient(server: server).baseURL, signer: signer)
    }

    /// Deposits a disclosure. Returns the stored record and whether this call stored it (false when the
    /// same field of the same event was disclosed before, by this or another party).
    public func deposit(_ deposit: DisclosureDeposit) async throws -> (record: DisclosureRecord, created: Bool) {
        let (data, status) = try await send("POST", ["v1", "disclosures"], body: Data(deposit.json))
        guard case .object(let object) = try parse(data), let record = DisclosureRecord(object) else {
            throw ClientError("the server's disclosure is not valid")
        }
        return (record, status == 201)
    }

    /// The disclosures of the event at `index` (the caller must be a party to it or an auditor).
    public func disclosures(index: UInt64) async throws -> [DisclosureRecord] {
        let (data, _) = try await send("GET", ["v1", "disclosures"], query: ["index": "\(index)"])
        guard case .object(let page) = try parse(data), case .array(let items)? = page["disclosures"] else {
            throw ClientError("the server's disclosures are not valid")
        }
        return try items.map { item in
            guard case .object(let object) = item, let record = DisclosureRecord(object) else {
                throw ClientError("a disclosure from the server is not valid")
            }
            return record
        }
    }

    private func parse(_ data: Data) throws -> JSONValue {
        do { return try JSONParser.parse([UInt8](data)) } catch { throw ClientError("the server's answer is not JSON: \(error)") }
    }

    private func send(_ method: String, _ path: [String], query: [String: String] = [:], body: Data? = nil) async throws -> (Data, Int) {
        var request = URLRequest(url: baseURL.endpoint(path, query: query))
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        try signer.sign(&request)
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await session.data(for: request) } catch {
            throw ClientError("cannot reach \(baseURL.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError("no HTTP response from \(baseURL)") }
        guard (200..<300).contains(http.statusCode) else {
            let problem = try? JSONDecoder().decode(Problem.self, from: data)
            throw ClientError("HTTP \(http.statusCode) from /\(path.joined(separator: "/"))", problem: problem, status: http.statusCode)
        }
        return (data, http.statusCode)
    }
}

extension DisclosureRecord {
    /// Checks the record against the event logged at its index: the event must carry exactly this commitment
    /// at `field`, and the salt and value must open it. Returns nil when they do, else what is wrong.
    public func mismatch(against event: EventEnvelope) -> String? {
        guard field.hasPrefix("/"), case .string(let logged)? = event.body[String(field.dropFirst())] else {
            return "entry \(index) (\(event.type)) has no commitment at \(field)"
        }
        guard logged == commitment else {
            return "the server says \(field) of entry \(index) is \(commitment), the log says \(logged)"
        }
        guard Commitment.opens(opening, logged) else {
            return "the salt and value do not open \(field) of entry \(index): SHA-256 of their JCS form is "
                + Commitment.commitment(of: opening) + ", the log commits to \(logged)"
        }
        return nil
    }
}
