import CustodyCrypto
import Foundation
import Testing

@Suite("RFC 9421 HTTP message signatures and RFC 8941 structured fields")
struct HTTPMessageSignaturesTests {
    typealias Sig = HTTPMessageSignatures

    /// The B.2 test request.
    static var testRequest: Sig.Request {
        Sig.Request(method: RFC9421Vectors.method, scheme: "https", authority: RFC9421Vectors.authority,
                    path: RFC9421Vectors.path, query: RFC9421Vectors.query, fields: RFC9421Vectors.fields)
    }

    static func testKey() throws -> SigningKey {
        let der = try #require(Base64.decode(RFC9421Vectors.ed25519PrivateKeyPKCS8))
        #expect(Hex.encode(der.prefix(16)) == "302e020100300506032b657004220420")  // PKCS#8 Ed25519, OCTET STRING of 32
        return try SigningKey(seed: Array(der.suffix(32)))
    }

    static func testPublicKey() throws -> PublicKey {
        let der = try #require(Base64.decode(RFC9421Vectors.ed25519PublicKeySPKI))
        #expect(Hex.encode(der.prefix(12)) == "302a300506032b6570032100")  // SPKI Ed25519, BIT STRING of 32
        return try PublicKey(bytes: Array(der.suffix(32)))
    }

    @Test("B.2.6: the signature base, the signature, and re-signing give the RFC's bytes")
    func rfc9421B26() throws {
        let signatures = try Sig.parse(signatureInput: RFC9421Vectors.b26SignatureInput, signature: RFC9421Vectors.b26Signature)
        #expect(signatures.count == 1)
        let signature = try #require(signatures.first)
        #expect(signature.label == "sig-b26")
        #expect(signature.components == ["date", "@method", "@path", "@authority", "content-type", "content-length"])
        #expect(signature.created == 1_618_884_473 && signature.keyID == "test-key-ed25519" && signature.alg == nil)

        let base = try Sig.signatureBase(of: Self.testRequest, input: signature.input)
        #expect(String(decoding: base, as: UTF8.self) == RFC9421Vectors.b26SignatureBase)

        let publicKey = try Self.testPublicKey()
        #expect(try Self.testKey().publicKey == publicKey)
        #expect(try Sig.isValid(signature, of: Self.testRequest, key: publicKey))

        // Ed25519 is deterministic: signing the same input with the RFC's key gives the RFC's header fields.
        let fields = try Sig.sign(Self.testRequest, input: signature.input, key: try Self.testKey(), label: "sig-b26")
        #expect(fields.signatureInput == RFC9421Vectors.b26SignatureInput)
        #expect(fields.signature == RFC9421Vectors.b26Signature)
    }

    @Test("B.2.6 fails when the request or the key changes")
    func rfc9421B26Negative() throws {
        let signature = try #require(try Sig.parse(signatureInput: RFC9421Vectors.b26SignatureInput,
                                                   signature: RFC9421Vectors.b26Signature).first)
        let key = try Self.testPublicKey()
        var altered = Self.testRequest
        altered.path = "/bar"
        #expect(try !Sig.isValid(signature, of: altered, key: key))
        altered = Self.testRequest
        altered.method = "GET"
        #expect(try !Sig.isValid(signature, of: altered, key: key))
        altered = Self.testRequest
        altered.authority = "example.org"
        #expect(try !Sig.isValid(signature, of: altered, key: key))
        altered = Self.testRequest
        altered.fields = altered.fields.map { $0.name == "Content-Length" ? ($0.name, "19") : $0 }
        #expect(try !Sig.isValid(signature, of: altered, key: key))
        // The query is not covered by sig-b26, so changing it keeps the signature valid.
        altered = Self.testRequest
        altered.query = "param=Other"
        #expect(try Sig.isValid(signature, of: altered, key: key))
        // Another key.
        #expect(try !Sig.isValid(signature, of: Self.testRequest, key: SigningKey.generate().publicKey))
        // A covered field that is absent is an error, not a silent empty value.
        altered = Self.testRequest
        altered.fields.removeAll { $0.name == "Date" }
        #expect(throws: Sig.SignatureError.self) { try Sig.isValid(signature, of: altered, key: key) }
    }

    @Test("derived components (RFC 9421 section 2.2) of the test request")
    func derivedComponents() throws {
        let r = Self.testRequest
        #expect(try Sig.componentValue("@method", of: r) == "POST")
        #expect(try Sig.componentValue("@target-uri", of: r) == "https://example.com/foo?param=Value&Pet=dog")
        #expect(try Sig.componentValue("@authority", of: r) == "example.com")
        #expect(try Sig.componentValue("@scheme", of: r) == "https")
        #expect(try Sig.componentValue("@request-target", of: r) == "/foo?param=Value&Pet=dog")
        #expect(try Sig.componentValue("@path", of: r) == "/foo")
        #expect(try Sig.componentValue("@query", of: r) == "?param=Value&Pet=dog")
        var bare = r
        bare.query = nil
        bare.path = ""
        bare.authority = "Example.COM:443"
        #expect(try Sig.componentValue("@query", of: bare) == "?")
        #expect(try Sig.componentValue("@path", of: bare) == "/")
        #expect(try Sig.componentValue("@authority", of: bare) == "example.com")
        #expect(throws: Sig.SignatureError.self) { try Sig.componentValue("@status", of: r) }
        #expect(throws: Sig.SignatureError.self) { try Sig.componentValue("@signature-params", of: r) }
        #expect(throws: Sig.SignatureError.self) { try Sig.componentValue("Date", of: r) }
    }

    @Test("our own signatures: sign then verify; component parameters and duplicates are refused")
    func roundTrip() throws {
        let key = SigningKey.generate()
        let request = Sig.Request(method: "GET", scheme: "http", authority: "127.0.0.1:8080", path: "/v1/disclosures",
                                  query: "index=14", fields: [])
        let input = Sig.input(components: ["@method", "@authority", "@path", "@query"], created: 1_800_000_000,
                              keyID: key.publicKey.keyID)
        let fields = try Sig.sign(request, input: input, key: key)
        #expect(fields.signatureInput ==
            #"sig1=("@method" "@authority" "@path" "@query");created=1800000000;keyid="\#(key.publicKey.keyID)";alg="ed25519""#)
        let parsed = try #require(try Sig.parse(signatureInput: fields.signatureInput, signature: fields.signature).first)
        #expect(parsed.alg == "ed25519" && parsed.keyID == key.publicKey.keyID)
        #expect(try Sig.isValid(parsed, of: request, key: key.publicKey))

        let withParameter = try Sig.parse(signatureInput: #"s=("@method";req);created=1"#, signature: "s=:AAAA:")[0]
        #expect(throws: Sig.SignatureError.self) { try Sig.signatureBase(of: request, input: withParameter.input) }
        let twice = try Sig.parse(signatureInput: #"s=("@method" "@method");created=1"#, signature: "s=:AAAA:")[0]
        #expect(throws: Sig.SignatureError.self) { try Sig.signatureBase(of: request, input: twice.input) }
    }

    @Test("Signature-Input and Signature must pair up")
    func parsing() throws {
        #expect(throws: Sig.SignatureError.self) { try Sig.parse(signatureInput: "", signature: "") }
        #expect(throws: Sig.SignatureError.self) { try Sig.parse(signatureInput: #"a=("@method")"#, signature: "b=:AAAA:") }
        #expect(throws: Sig.SignatureError.self) { try Sig.parse(signatureInput: #"a="@method""#, signature: "a=:AAAA:") }
        #expect(throws: Sig.SignatureError.self) { try Sig.parse(signatureInput: #"a=("@method")"#, signature: "a=\"AAAA\"") }
        #expect(throws: Sig.SignatureError.self) { try Sig.parse(signatureInput: #"a=("@method""#, signature: "a=:AAAA:") }
        let two = try Sig.parse(signatureInput: #"a=("@method");created=1, b=("@path");created=2"#, signature: "b=:AAAA:, a=:AAA=:")
        #expect(two.map(\.label) == ["a", "b"] && two[0].bytes == [0, 0] && two[1].bytes == [0, 0, 0])
    }

    @Test("RFC 9530 Content-Digest with sha-256")
    func contentDigest() throws {
        let body = Array(RFC9421Vectors.body.utf8)
        // The sha-256 digest RFC 9530 section 2 shows for this body.
        #expect(ContentDigest.sha256(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
        try ContentDigest.check("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body: body)
        try ContentDigest.check("sha-512=:AAAA:, sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body: body)
        #expect(throws: HTTPMessageSignatures.SignatureError.self) {
            try ContentDigest.check("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body: body + [0x20])
        }
        // The B.2 request carries only sha-512, which the server does not check.
        #expect(throws: HTTPMessageSignatures.SignatureError.self) {
            try ContentDigest.check(RFC9421Vectors.fields[3].value, body: body)
        }
        #expect(throws: HTTPMessageSignatures.SignatureError.self) { try ContentDigest.check("sha-256=X48E", body: body) }
    }

    @Test("RFC 8941: items, parameters and dictionaries parse and serialize as the RFC says")
    func structuredFields() throws {
        typealias SF = StructuredFields
        let dictionary = try SF.parseDictionary(#"a=1, b=?0, c, d=-12.5;x="q\"\\", e=(tok "s" :AQID:);p=0.001, f=*tok/x:y"#)
        #expect(dictionary.keys == ["a", "b", "c", "d", "e", "f"])
        #expect(dictionary["a"] == .item(SF.Item(.integer(1))))
        #expect(dictionary["b"] == .item(SF.Item(.boolean(false))))
        #expect(dictionary["c"] == .item(SF.Item(.boolean(true))))
        #expect(dictionary["d"] == .item(SF.Item(.decimal(thousandths: -12_500), parameters: SF.Parameters([("x", .string(#"q"\"#))]))))
        #expect(dictionary["e"] == .innerList(SF.InnerList([SF.Item(.token("tok")), SF.Item(.string("s")), SF.Item(.bytes([1, 2, 3]))],
                                                          parameters: SF.Parameters([("p", .decimal(thousandths: 1))]))))
        #expect(dictionary["f"] == .item(SF.Item(.token("*tok/x:y"))))
        #expect(SF.serialize(dictionary) == #"a=1, b=?0, c, d=-12.5;x="q\"\\", e=(tok "s" :AQID:);p=0.001, f=*tok/x:y"#)
        // A later duplicate key overwrites the earlier one in place; whitespace is normalised.
        #expect(SF.serialize(try SF.parseDictionary("a=1 ,\tb=2,a=3")) == "a=3, b=2")
        #expect(SF.serialize(try SF.parseItem("  12.0  ")) == "12.0")
        for bad in ["A=1", "a=1,", "a=1 b=2", "a=\"\u{7f}\"", "a=\"x\\n\"", "a=1234567890123456", "a=1.2345",
                    "a=(1 2", "a=?2", "a=:@@@@:", "a=@1", "a=%\"x\"", "a=(1,2)"] {
            #expect(throws: SF.ParseError.self, "\(bad)") { try SF.parseDictionary(bad) }
        }
    }
}
