import CustodyCrypto
import Foundation
import Testing

/// RFC 8032 section 7.1 test vectors (TEST 1, 2, 3, 1024 and SHA(abc)), transcribed from the RFC.
struct RFC8032Vector: Sendable, CustomTestStringConvertible {
    let name: String
    let secretKey: String
    let publicKey: String
    let message: String
    let signature: String
    var testDescription: String { name }
}

let rfc8032Vectors: [RFC8032Vector] = [
    RFC8032Vector(
        name: "TEST 1",
        secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message: "",
        signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    RFC8032Vector(
        name: "TEST 2",
        secretKey: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message: "72",
        signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    RFC8032Vector(
        name: "TEST 3",
        secretKey: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        message: "af82",
        signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    RFC8032Vector(
        name: "TEST SHA(abc)",
        secretKey: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]

@Suite("Ed25519 (RFC 8032)")
struct Ed25519Tests {
    @Test("RFC 8032 section 7.1 vectors sign and verify", arguments: rfc8032Vectors)
    func vector(_ v: RFC8032Vector) throws {
        let key = try SigningKey(seed: Hex.decode(v.secretKey)!)
        #expect(Hex.encode(key.publicKey.bytes) == v.publicKey)
        let message = Hex.decode(v.message)!
        let signature = key.signature(for: message)
        #expect(Hex.encode(signature) == v.signature)
        #expect(key.publicKey.isValidSignature(signature, for: message))
    }

    @Test("a signature fails on any flipped bit of message or signature")
    func tamper() throws {
        let key = try SigningKey(seed: Hex.decode(rfc8032Vectors[2].secretKey)!)
        let message: [UInt8] = Array("custody event".utf8)
        let signature = key.signature(for: message)
        for i in 0..<message.count {
            var m = message
            m[i] ^= 0x01
            #expect(!key.publicKey.isValidSignature(signature, for: m))
        }
        for i in stride(from: 0, to: 64, by: 7) {
            var s = signature
            s[i] ^= 0x80
            #expect(!key.publicKey.isValidSignature(s, for: message))
        }
        #expect(!key.publicKey.isValidSignature(Array(signature.prefix(63)), for: message))
        #expect(!SigningKey.generate().publicKey.isValidSignature(signature, for: message))
    }

    @Test("key ids are 32 hex characters of SHA-256 of the key")
    func keyID() throws {
        let pk = try PublicKey(bytes: Hex.decode(rfc8032Vectors[0].publicKey)!)
        #expect(pk.keyID == Hex.encode(SHA256.hash(pk.bytes).prefix(16)))
        #expect(pk.keyID.count == 32)
        #expect(throws: CryptoError.self) { try PublicKey(bytes: [1, 2, 3]) }
    }
}

@Suite("SHA-256 and encodings")
struct DigestTests {
    @Test("FIPS 180-2 examples")
    func sha256() {
        #expect(Hex.encode(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hex.encode(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("ab".utf8), Array("c".utf8)) == SHA256.hash(Array("abc".utf8)))
    }

    @Test("base64 decoding is strict")
    func base64() {
        #expect(Base64.decode("AQID") == [1, 2, 3])
        #expect(Base64.decode("AQI=") == [1, 2])
        #expect(Base64.decode("AQI") == nil)       // missing padding
        #expect(Base64.decode("AQJ=") == nil)      // non-canonical trailing bits
        #expect(Base64.decode("A-_=") == nil)      // URL alphabet
        #expect(Hex.decode("0aFf") == [0x0a, 0xff])
        #expect(Hex.decode("0g") == nil)
    }

    @Test("base64 encoding matches Foundation's for every length and tail")
    func base64Encode() {
        for length in 0..<70 {
            let bytes = secureRandomBytes(length)
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString(), "length \(length)")
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test("base64 decoding agrees with Foundation's, less non-canonical spellings, on random texts")
    func base64Differential() {
        // The reference: Foundation's decoder, then the canonical check (re-encoding gives the text back).
        func reference(_ text: String) -> [UInt8]? {
            guard text.utf8.count % 4 == 0, let data = Data(base64Encoded: text) else { return nil }
            let bytes = [UInt8](data)
            return Base64.encode(bytes) == text ? bytes : nil
        }
        let pool = Array("AQgw+/09az==-_ .\n".unicodeScalars)
        var accepted = 0
        for round in 0..<20_000 {
            var text = String.UnicodeScalarView()
            let length = round % 3 == 0 ? Int.random(in: 0...13) : 4 * Int.random(in: 0...3)
            for _ in 0..<length { text.append(pool.randomElement()!) }
            let candidate = round % 2 == 0 ? String(text) : Base64.encode(secureRandomBytes(length)) + String(text.prefix(length % 4))
            let expected = reference(candidate)
            #expect(Base64.decode(candidate) == expected, "\(candidate)")
            if expected != nil { accepted += 1 }
        }
        #expect(accepted > 1_000)
    }

    @Test("key files round-trip and are written 0600")
    func keyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = SigningKey.generate()
        let path = dir + "/a.key"
        try KeyFile(key: key, participant: "miner-1").write(to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let read = try KeyFile.read(from: path)
        #expect(read.participant == "miner-1")
        #expect(try read.signingKey().publicKey == key.publicKey)
        #expect(throws: (any Error).self) { try KeyFile(key: key, participant: "x").write(to: path) }
    }
}
