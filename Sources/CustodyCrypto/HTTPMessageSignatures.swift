/// RFC 9421 HTTP Message Signatures with Ed25519 (`alg="ed25519"`, section 3.3.6), and RFC 9530
/// `Content-Digest` with SHA-256: the signature base, signing, and the parsing of `Signature-Input` and
/// `Signature`. The client (`custody`) and the daemon both build the signature base here, so they cannot
/// disagree on it. Which components a request must cover, how fresh it must be, and whose key it is are the
/// daemon's policy, not this file's.
///
/// Supported covered components: the derived components `@method`, `@target-uri`, `@authority`, `@scheme`,
/// `@request-target`, `@path` and `@query` (section 2.2), and HTTP fields by lower-case name. Component
/// parameters (`sf`, `key`, `bs`, `req`, `tr`, `name`) are not supported and are refused.
public enum HTTPMessageSignatures {
    /// The `alg` parameter value of Ed25519 (RFC 9421 section 6.2.2).
    public static let algorithm = "ed25519"

    /// A request as the signature sees it: every value exactly as sent on the wire.
    public struct Request: Sendable {
        /// The method, e.g. `POST`.
        public var method: String
        /// `http` or `https`.
        public var scheme: String
        /// `host[:port]` as sent (the `Host` header or the URL's authority).
        public var authority: String
        /// The absolute path, percent-encoded as sent (empty means `/`).
        public var path: String
        /// The query without its `?`, percent-encoded as sent; nil when the target has none.
        public var query: String?
        /// Header fields in order; names are compared case-insensitively.
        public var fields: [(name: String, value: String)]

        /// A request from its parts.
        public init(method: String, scheme: String, authority: String, path: String, query: String?,
                    fields: [(name: String, value: String)]) {
            self.method = method
            self.scheme = scheme
            self.authority = authority
            self.path = path
            self.query = query
            self.fields = fields
        }

        /// The value of a header field: its lines trimmed and joined with `, ` (RFC 9421 section 2.1);
        /// nil when absent.
        public func field(_ name: String) -> String? {
            let lines = fields.filter { $0.name.lowercased() == name }.map { trimOWS($0.value) }
            return lines.isEmpty ? nil : lines.joined(separator: ", ")
        }
    }

    /// Why a signature could not be made, parsed or checked.
    public struct SignatureError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The kinds of failure.
        public enum Kind: Sendable, Equatable {
            /// `Signature-Input` or `Signature` is not what RFC 9421 and RFC 8941 define.
            case malformed
            /// A covered component is not in the request, or cannot be used.
            case component
            /// `Content-Digest` is missing, malformed, or does not match the body.
            case digest
        }

        /// What kind of failure.
        public let kind: Kind
        /// One sentence naming what is wrong.
        public let description: String
        /// The header field or component to blame, e.g. `Signature-Input` or `content-digest`.
        public let field: String

        /// An error of `kind` about `field`.
        public init(_ kind: Kind, _ description: String, field: String) {
            self.kind = kind
            self.description = description
            self.field = field
        }
    }

    /// One signature of a request: its label, the covered components with their parameters (the
    /// `Signature-Input` member) and the signature bytes (the `Signature` member).
    public struct Signature: Sendable, Equatable {
        /// The dictionary key shared by `Signature-Input` and `Signature`.
        public var label: String
        /// The covered components and the signature parameters.
        public var input: StructuredFields.InnerList
        /// The signature.
        public var bytes: [UInt8]

        /// The covered component names, in order.
        public var components: [String] {
            input.items.compactMap { if case .string(let s) = $0.value { s } else { nil } }
        }

        /// The `created` parameter (Unix seconds), if present as an integer.
        public var created: Int64? { if case .integer(let n)? = input.parameters["created"] { n } else { nil } }
        /// The `expires` parameter (Unix seconds), if present as an integer.
        public var expires: Int64? { if case .integer(let n)? = input.parameters["expires"] { n } else { nil } }
        /// The `keyid` parameter, if present as a string.
        public var keyID: String? { if case .string(let s)? = input.parameters["keyid"] { s } else { nil } }
        /// The `alg` parameter, if present as a string.
        public var alg: String? { if case .string(let s)? = input.parameters["alg"] { s } else { nil } }
    }

    // MARK: Signature base (section 2.5)

    /// The signature base of `request` for the covered components and parameters of `input`.
    public static func signatureBase(of request: Request, input: StructuredFields.InnerList) throws(SignatureError) -> [UInt8] {
        var lines: [String] = []
        var seen: Set<String> = []
        for item in input.items {
            guard case .string(let name) = item.value else {
                throw SignatureError(.malformed, "a covered component must be a string, got \(StructuredFields.serialize(item.value))",
                                     field: "Signature-Input")
            }
            guard item.parameters.isEmpty else {
                throw SignatureError(.component, "component parameters (\(item.parameters.keys.joined(separator: ", "))) are not supported",
                                     field: name)
            }
            guard seen.insert(name).inserted else {
                throw SignatureError(.malformed, "component \"\(name)\" is covered twice", field: "Signature-Input")
            }
            let value = try componentValue(name, of: request)
            guard !value.contains("\n"), !value.contains("\r") else {
                throw SignatureError(.component, "the value of \"\(name)\" contains a line break", field: name)
            }
            lines.append("\(StructuredFields.serialize(.string(name))): \(value)\n")
        }
        lines.append("\"@signature-params\": \(StructuredFields.serialize(input))")
        return Array(lines.joined().utf8)
    }

    /// The value of one covered component (section 2.1 for fields, 2.2 for derived components).
    public static func componentValue(_ name: String, of request: Request) throws(SignatureError) -> String {
        switch name {
        case "@method":
            return request.method
        case "@target-uri":
            return "\(request.scheme.lowercased())://\(normalizedAuthority(request))\(requestTarget(request))"
        case "@authority":
            return normalizedAuthority(request)
        case "@scheme":
            return request.scheme.lowercased()
        case "@request-target":
            return requestTarget(request)
        case "@path":
            return request.path.isEmpty ? "/" : request.path
        case "@query":
            return "?" + (request.query ?? "")
        case "@signature-params":
            throw SignatureError(.malformed, "\"@signature-params\" cannot be a covered component", field: "Signature-Input")
        case let other where other.hasPrefix("@"):
            throw SignatureError(.component, "derived component \"\(other)\" is not supported", field: other)
        default:
            guard name == name.lowercased(), !name.isEmpty else {
                throw SignatureError(.malformed, "field component \"\(name)\" must be a lower-case field name", field: "Signature-Input")
            }
            guard let value = request.field(name) else {
                throw SignatureError(.component, "covered field \"\(name)\" is not in the request", field: name)
            }
            return value
        }
    }

    /// `@authority`: lower-cased, without the scheme's default port (RFC 9421 section 2.2.3).
    static func normalizedAuthority(_ request: Request) -> String {
        var authority = request.authority.lowercased()
        let scheme = request.scheme.lowercased()
        if scheme == "http", authority.hasSuffix(":80") { authority.removeLast(3) }
        if scheme == "https", authority.hasSuffix(":443") { authority.removeLast(4) }
        return authority
    }

    static func requestTarget(_ request: Request) -> String {
        (request.path.isEmpty ? "/" : request.path) + (request.query.map { "?" + $0 } ?? "")
    }

    // MARK: Signing

    /// The two header fields that carry a signature.
    public struct Fields: Sendable, Equatable {
        /// The `Signature-Input` value.
        public var signatureInput: String
        /// The `Signature` value.
        public var signature: String
    }

    /// The signature parameters `(components);created=…;keyid="…";alg="ed25519"`.
    public static func input(components: [String], created: Int64, keyID: String, expires: Int64? = nil,
                             nonce: String? = nil) -> StructuredFields.InnerList {
        var parameters = StructuredFields.Parameters([("created", .integer(created))])
        if let expires { parameters["expires"] = .integer(expires) }
        if let nonce { parameters["nonce"] = .string(nonce) }
        parameters["keyid"] = .string(keyID)
        parameters["alg"] = .string(algorithm)
        return StructuredFields.InnerList(components.map { StructuredFields.Item(.string($0)) }, parameters: parameters)
    }

    /// Signs `request` over `input` with `key`: the `Signature-Input` and `Signature` values under `label`.
    public static func sign(_ request: Request, input: StructuredFields.InnerList, key: SigningKey,
                            label: String = "sig1") throws(SignatureError) -> Fields {
        let base = try signatureBase(of: request, input: input)
        var inputs = StructuredFields.Dictionary()
        inputs[label] = .innerList(input)
        var signatures = StructuredFields.Dictionary()
        signatures[label] = .item(StructuredFields.Item(.bytes(key.signature(for: base))))
        return Fields(signatureInput: StructuredFields.serialize(inputs), signature: StructuredFields.serialize(signatures))
    }

    // MARK: Verifying

    /// The signatures of a request, in `Signature-Input` order: each label of `Signature-Input` must have a
    /// byte sequence in `Signature`, and each `Signature-Input` member must be an inner list.
    public static func parse(signatureInput: String, signature: String) throws(SignatureError) -> [Signature] {
        let inputs: StructuredFields.Dictionary
        do { inputs = try StructuredFields.parseDictionary(signatureInput) } catch {
            throw SignatureError(.malformed, "Signature-Input is not a structured-field dictionary: \(error)", field: "Signature-Input")
        }
        let signatures: StructuredFields.Dictionary
        do { signatures = try StructuredFields.parseDictionary(signature) } catch {
            throw SignatureError(.malformed, "Signature is not a structured-field dictionary: \(error)", field: "Signature")
        }
        guard !inputs.members.isEmpty else {
            throw SignatureError(.malformed, "Signature-Input has no signature", field: "Signature-Input")
        }
        return try inputs.members.map { (label, member) throws(SignatureError) -> Signature in
            guard case .innerList(let list) = member else {
                throw SignatureError(.malformed, "Signature-Input member \(label) is not an inner list of components", field: "Signature-Input")
            }
            guard let sig = signatures[label] else {
                throw SignatureError(.malformed, "Signature has no member \(label) to match Signature-Input", field: "Signature")
            }
            guard case .item(let item) = sig, case .bytes(let bytes) = item.value else {
                throw SignatureError(.malformed, "Signature member \(label) is not a byte sequence", field: "Signature")
            }
            return Signature(label: label, input: list, bytes: bytes)
        }
    }

    /// Whether `signature` is a valid Ed25519 signature by `key` over its base for `request`.
    public static func isValid(_ signature: Signature, of request: Request, key: PublicKey) throws(SignatureError) -> Bool {
        key.isValidSignature(signature.bytes, for: try signatureBase(of: request, input: signature.input))
    }
}

/// RFC 9530 `Content-Digest` with SHA-256.
public enum ContentDigest {
    /// The `Content-Digest` value of `body`: `sha-256=:<base64>:`.
    public static func sha256(_ body: [UInt8]) -> String {
        var dictionary = StructuredFields.Dictionary()
        dictionary["sha-256"] = .item(StructuredFields.Item(.bytes(SHA256.hash(body))))
        return StructuredFields.serialize(dictionary)
    }

    /// Checks a `Content-Digest` value against `body`: its `sha-256` member must be the body's SHA-256.
    /// Other algorithms are ignored; a value without `sha-256` is refused.
    public static func check(_ value: String, body: [UInt8]) throws(HTTPMessageSignatures.SignatureError) {
        let dictionary: StructuredFields.Dictionary
        do { dictionary = try StructuredFields.parseDictionary(value) } catch {
            throw .init(.digest, "Content-Digest is not a structured-field dictionary: \(error)", field: "content-digest")
        }
        guard let member = dictionary["sha-256"] else {
            throw .init(.digest, "Content-Digest has no sha-256 digest (the server checks sha-256 only)", field: "content-digest")
        }
        guard case .item(let item) = member, case .bytes(let digest) = item.value else {
            throw .init(.digest, "the sha-256 member of Content-Digest is not a byte sequence", field: "content-digest")
        }
        guard digest == SHA256.hash(body) else {
            throw .init(.digest, "the body does not match its Content-Digest (sha-256)", field: "content-digest")
        }
    }
}

/// Trims optional whitespace (SP and HTAB) from both ends.
func trimOWS(_ s: String) -> String {
    var scalars = Substring(s)
    while let c = scalars.first, c == " " || c == "\t" { scalars.removeFirst() }
    while let c = scalars.last, c == " " || c == "\t" { scalars.removeLast() }
    return String(scalars)
}
