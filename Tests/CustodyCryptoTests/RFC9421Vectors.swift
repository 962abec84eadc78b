/// Test vectors of RFC 9421 (HTTP Message Signatures), transcribed from the RFC text.
///
/// - Key: Appendix B.1.4, "Example Ed25519 Test Key" (`test-key-ed25519`), PKCS#8 and SPKI PEM bodies.
/// - Message: Appendix B.2, the "test-request" (`POST /foo?param=Value&Pet=dog`, `Host: example.com`).
/// - Signature: Appendix B.2.6, "Signing a Request Using ed25519", label `sig-b26`; the signature base is
///   shown in the RFC with RFC 8792 line wrapping, unwrapped here.
enum RFC9421Vectors {
    /// B.1.4: `-----BEGIN PRIVATE KEY-----` body (PKCS#8, 16-byte prefix then the 32-byte seed).
    static let ed25519PrivateKeyPKCS8 = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF"
    /// B.1.4: `-----BEGIN PUBLIC KEY-----` body (SPKI, 12-byte prefix then the 32-byte key).
    static let ed25519PublicKeySPKI = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="

    /// B.2: the test request's method, target and header fields (the body is `{"hello": "world"}`).
    static let method = "POST"
    static let authority = "example.com"
    static let path = "/foo"
    static let query = "param=Value&Pet=dog"
    static let fields: [(name: String, value: String)] = [
        ("Host", "example.com"),
        ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("Content-Type", "application/json"),
        ("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"),
        ("Content-Length", "18"),
    ]
    static let body = #"{"hello": "world"}"#

    /// B.2.6: the header fields added under the label `sig-b26`.
    static let b26SignatureInput =
        #"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#
    static let b26Signature =
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"

    /// B.2.6: the signature base.
    static let b26SignatureBase = """
        "date": Tue, 20 Apr 2021 02:07:55 GMT
        "@method": POST
        "@path": /foo
        "@authority": example.com
        "content-type": application/json
        "content-length": 18
        "@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"
        """
}
