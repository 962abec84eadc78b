import CustodyCrypto
import CustodyLedger
import CustodyDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Checks that a request is signed (RFC 9421, Ed25519) by a key registered in the log and usable at the
/// current tree size, and answers who signed it. The daemon's policy:
///
/// - the first signature named in `Signature-Input` is the one checked; it must have `keyid` (our 32-hex
///   key id), `created` (Unix seconds, within ±`window` of the daemon's clock), no passed `expires`, and
///   `alg`, if given, `"ed25519"`;
/// - it must cover `@method`, and `@target-uri` or all of `@authority`, `@path` and `@query`; a request with
///   a body must also cover `content-digest`, whose `sha-256` the daemon checks against the body (RFC 9530).
///
/// Refusals are RFC 9457 problems: 401 when the request does not prove a key (`signature-required`,
/// `invalid-signature-input`, `stale-signature`, `content-digest-mismatch`, `signature-mismatch`), 403 when
/// the key is not registered or may no longer sign (`unknown-key`).
struct SignedRequestAuthenticator: Sendable {
    /// The log whose registered keys are accepted.
    let ledger: Ledger
    /// Allowed distance between `created` and the daemon's clock, in seconds.
    var window: Int64 = 300
    /// The daemon's clock, in Unix seconds.
    var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    static let signatureInputName = HTTPField.Name("Signature-Input")!
    static let signatureName = HTTPField.Name("Signature")!
    static let acceptSignatureName = HTTPField.Name("Accept-Signature")!

    /// What the daemon asks for in `Accept-Signature` on a 401 (RFC 9421 section 5.1).
    static func acceptSignature(withBody: Bool) -> String {
        let components = ["@method", "@authority", "@path", "@query"] + (withBody ? ["content-digest"] : [])
        var dictionary = StructuredFields.Dictionary()
        dictionary["sig1"] = .innerList(StructuredFields.InnerList(components.map { StructuredFields.Item(.string($0)) },
                                                                   parameters: StructuredFields.Parameters([("alg", .string(HTTPMessageSignatures.algorithm))])))
        return StructuredFields.serialize(dictionary)
    }

    /// The request as the signature sees it: method, scheme, authority, path and query exactly as received.
    static func message(of request: Request) -> HTTPMessageSignatures.Request {
        let target = request.head.path ?? "/"
        let path: String, query: String?
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = nil
        }
        return HTTPMessageSignatures.Request(
            method: request.method.rawValue, scheme: request.head.scheme ?? "http",
            authority: request.head.authority ?? "", path: path, query: query,
            fields: request.headers.map { ($0.name.canonicalName, $0.value) })
    }

    /// The caller who signed `request`; `body` is the request body when the route takes one.
    func authenticate(_ request: Request, body: [UInt8]?) throws(AccessError) -> Caller {
        let inputLines = request.headers[values: Self.signatureInputName]
        let signatureLines = request.headers[values: Self.signatureName]
        guard !inputLines.isEmpty, !signatureLines.isEmpty else {
            let missing = [inputLines.isEmpty ? "Signature-Input" : nil, signatureLines.isEmpty ? "Signature" : nil].compactMap { $0 }
            throw .signatureRequired("\(request.method) \(request.head.path ?? "") needs a signed request (RFC 9421, Ed25519): "
                                     + "\(missing.joined(separator: " and ")) missing. Sign it with a key registered in the log "
                                     + "(keyid = its key id, created = now), covering @method, @authority, @path, @query"
                                     + (body == nil ? "" : " and content-digest"))
        }
        let signature: HTTPMessageSignatures.Signature
        do throws(HTTPMessageSignatures.SignatureError) {
            let all = try HTTPMessageSignatures.parse(signatureInput: inputLines.joined(separator: ", "),
                                                      signature: signatureLines.joined(separator: ", "))
            signature = all[0]
        } catch {
            throw .invalidSignatureInput(error.description)
        }
        let label = signature.label
        guard let keyID = signature.keyID, keyID.utf8.count == 32, Hex.decode(keyID) != nil, keyID == keyID.lowercased() else {
            throw .invalidSignatureInput("signature \(label) needs keyid: the 32 lower-case hex key id of a key registered in the log")
        }
        if let alg = signature.input.parameters["alg"], alg != .string(HTTPMessageSignatures.algorithm) {
            throw .invalidSignatureInput("signature \(label) has alg \(StructuredFields.serialize(alg)); the log's keys are Ed25519, alg=\"ed25519\"")
        }
        guard let created = signature.created else {
            throw .invalidSignatureInput("signature \(label) needs created (Unix seconds when it was made)")
        }
        let now = now()
        guard abs(now - created) <= window else {
            let when = created < now ? "\(now - created) s before" : "\(created - now) s after"
            throw .staleSignature("signature \(label) (Signature-Input) was created at \(created), \(when) the daemon's clock "
                                  + "(\(now)); allowed: within \(window) s")
        }
        if let expires = signature.expires, expires <= now {
            throw .staleSignature("signature \(label) (Signature-Input) expired at \(expires); the daemon's clock is \(now)")
        }
        let covered = Set(signature.components)
        guard covered.contains("@method") else {
            throw .invalidSignatureInput("signature \(label) must cover \"@method\"")
        }
        if !covered.contains("@target-uri") {
            let missing = ["@authority", "@path", "@query"].filter { !covered.contains($0) }
            guard missing.isEmpty else {
                throw .invalidSignatureInput("signature \(label) must cover \"@target-uri\", or \"@authority\", \"@path\" and \"@query\" "
                                             + "(missing: \(missing.map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
        }
        let message = Self.message(of: request)
        if let body {
            guard covered.contains("content-digest") else {
                throw .invalidSignatureInput("signature \(label) must cover \"content-digest\": this request has a body")
            }
            guard let digest = message.field("content-digest") else {
                throw .contentDigestMismatch("the request has no Content-Digest header (RFC 9530, sha-256) for its body")
            }
            do throws(HTTPMessageSignatures.SignatureError) { try ContentDigest.check(digest, body: body) } catch { throw .contentDigestMismatch(error.description) }
        }
        let (caller, publicKey) = try ledger.caller(keyID: keyID)
        let valid: Bool
        do throws(HTTPMessageSignatures.SignatureError) { valid = try HTTPMessageSignatures.isValid(signature, of: message, key: publicKey) } catch {
            throw .invalidSignatureInput(error.description)
        }
        guard valid else {
            throw .signatureMismatch("signature \(label) does not verify with key \(keyID) of \(caller.participant.id): "
                                     + "the request differs from what was signed (method, authority, path, query or a covered field), "
                                     + "or it was signed with another key")
        }
        return caller
    }
}
