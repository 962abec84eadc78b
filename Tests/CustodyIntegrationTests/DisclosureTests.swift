import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small chain with a committed value: a Botswana exporter ships a parcel to a Belgian importer under a KP
/// certificate whose value is committed; both countries' KP authorities, an auditor, a stranger and India's
/// KP authority (not a party) are registered too.
struct ExportChain {
    let exporter: SigningKey, importer: SigningKey, bwKP: SigningKey, beKP: SigningKey, inKP: SigningKey
    let auditor: SigningKey, stranger: SigningKey
    let commitment: Commitment
    let exportIndex: UInt64
    let extractIndex: UInt64

    static let value: JSONValue = .integer(34_827_375)

    static func register(_ id: String, country: String, roles: [String], on daemon: LiveDaemon) async throws -> SigningKey {
        let key = SigningKey.generate()
        let registrar = daemon.registrarKey
        let event = try envelope("participant.register", signer: registrar.participant, key: registrar.signingKey(), [
            ("participant", .string(id)), ("legalName", .string("\(id) Ltd")), ("country", .string(country)),
            ("roles", .array(roles.map { .string($0) })), ("publicKeys", .array([.string(key.publicKey.base64)])),
        ])
        _ = try await daemon.client.submit(envelope: Data(event.leafInput))
        return key
    }

    static func build(on daemon: LiveDaemon) async throws -> ExportChain {
        let exporter = try await register("bw-exporter", country: "BW", roles: ["miner", "exporter"], on: daemon)
        let importer = try await register("be-importer", country: "BE", roles: ["importer", "trader"], on: daemon)
        let bwKP = try await register("bw-kp", country: "BW", roles: ["kp-authority"], on: daemon)
        let beKP = try await register("be-kp", country: "BE", roles: ["kp-authority"], on: daemon)
        let inKP = try await register("in-kp", country: "IN", roles: ["kp-authority"], on: daemon)
        let auditor = try await register("auditor", country: "BE", roles: ["auditor"], on: daemon)
        let stranger = try await register("stranger", country: "BE", roles: ["trader", "importer"], on: daemon)
        _ = try await daemon.client.submit(envelope: Data(try siteEvent("bw-exporter", key: exporter, site: "BW-JWANENG").leafInput))
        let extract = try await daemon.client.submit(envelope: Data(try envelope("parcel.extract", signer: "bw-exporter", key: exporter, [
            ("parcel", .string("BW-JW-0001")), ("site", .string("BW-JWANENG")), ("carats", .integer(125_000)),
            ("stones", .integer(4_200)), ("extractedOn", .string("2026-10-30")),
        ]).leafInput))
        let commitment = Commitment(value: value)
        let export = try await daemon.client.submit(envelope: Data(try envelope("kp.export", signer: "bw-exporter", key: exporter, [
            ("certificate", .string("BW-2026-000123")), ("exportingCountry", .string("BW")), ("importingCountry", .string("BE")),
            ("importer", .string("be-importer")), ("parcels", .array([.string("BW-JW-0001")])), ("carats", .integer(125_000)),
            ("valueCommitment", .string(commitment.hex)), ("issuedOn", .string("2026-11-01")), ("expiresOn", .string("2026-12-31")),
        ]).leafInput))
        return ExportChain(exporter: exporter, importer: importer, bwKP: bwKP, beKP: beKP, inKP: inKP, auditor: auditor,
                           stranger: stranger, commitment: commitment, exportIndex: export.index, extractIndex: extract.index)
    }

    /// The disclosure of the export's value.
    var deposit: DisclosureDeposit {
        guard case .string(let salt)? = commitment.disclosure["salt"] else { fatalError("a commitment has a salt") }
        return DisclosureDeposit(index: exportIndex, field: "/valueCommitment", salt: salt, value: Self.value)
    }
}

func disclosureClient(_ daemon: LiveDaemon, _ key: SigningKey) -> DisclosureClient {
    DisclosureClient(baseURL: daemon.baseURL, signer: RequestSigner(key: key))
}

/// The problem a client call was refused with.
func refusal(_ call: () async throws -> Void) async -> Problem? {
    do {
        try await call()
        return nil
    } catch let error as ClientError {
        return error.problem
    } catch {
        return nil
    }
}

/// Sends a request as built (no signing, no retouching).
func send(_ request: URLRequest) async throws -> RawResponse {
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    return RawResponse(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type"), body: data)
}

@Suite("Disclosures of committed values over signed requests", .serialized)
struct DisclosureTests {
    @Test("a party deposits a kp.export's value; its parties and auditors read it; everyone else is refused")
    func depositAndRead() async throws {
        let daemon = try await LiveDaemon.start()
        let chain = try await ExportChain.build(on: daemon)
        let index = chain.exportIndex

        // The exporter deposits; depositing again, or by the importer, answers with the stored disclosure.
        let (record, created) = try await disclosureClient(daemon, chain.exporter).deposit(chain.deposit)
        #expect(created)
        #expect(record.index == index && record.field == "/valueCommitment" && record.commitment == chain.commitment.hex)
        #expect(record.value == ExportChain.value && record.depositedBy == "bw-exporter")
        #expect(record.keyId == chain.exporter.publicKey.keyID)
        let again = try await disclosureClient(daemon, chain.exporter).deposit(chain.deposit)
        #expect(!again.created && again.record == record)
        let byImporter = try await disclosureClient(daemon, chain.importer).deposit(chain.deposit)
        #expect(!byImporter.created && byImporter.record.depositedBy == "bw-exporter")

        // An unsigned read is refused 401, and told what to sign.
        var url = URLComponents(url: daemon.baseURL.appendingPathComponent("v1/disclosures"), resolvingAgainstBaseURL: false)!
        url.percentEncodedQuery = "index=\(index)"
        let unsigned = try await send(URLRequest(url: url.url!))
        #expect(unsigned.status == 401 && unsigned.contentType == "application/problem+json")
        #expect(unsigned.problem?.slug == "signature-required")
        #expect(unsigned.problem?.detail.contains("Signature-Input and Signature missing") == true)

        // A stranger's signed read is refused 403, as is a KP authority of another country.
        let stranger = await refusal { _ = try await disclosureClient(daemon, chain.stranger).disclosures(index: index) }
        #expect(stranger?.status == 403 && stranger?.slug == "forbidden" && stranger?.logIndex == index)
        #expect(stranger?.detail.contains("stranger may not read the disclosures of entry \(index) (kp.export)") == true)
        let india = await refusal { _ = try await disclosureClient(daemon, chain.inKP).disclosures(index: index) }
        #expect(india?.status == 403 && india?.slug == "forbidden")

        // The importer, both KP authorities and an auditor read it, and it opens the commitment in the log.
        let event = try EventEnvelope.parse(try await daemon.client.entry(index).leafInput)
        for (who, key) in [("importer", chain.importer), ("exporter", chain.exporter), ("bw-kp", chain.bwKP), ("be-kp", chain.beKP),
                           ("auditor", chain.auditor)] {
            let read = try await disclosureClient(daemon, key).disclosures(index: index)
            #expect(read == [record], "\(who)")
            #expect(read.first?.mismatch(against: event) == nil, "\(who)")
        }

        // An auditor reads everything but is not a party, so it deposits nothing.
        let auditorDeposit = await refusal { _ = try await disclosureClient(daemon, chain.auditor).deposit(chain.deposit) }
        #expect(auditorDeposit?.status == 403 && auditorDeposit?.slug == "forbidden")
        #expect(auditorDeposit?.detail.contains("the exporter, the importer and the KP authorities of BW and BE") == true)
        let strangerDeposit = await refusal { _ = try await disclosureClient(daemon, chain.stranger).deposit(chain.deposit) }
        #expect(strangerDeposit?.status == 403)

        // A value that does not open the commitment is refused, naming the field and the entry.
        var wrong = chain.deposit
        wrong.value = .integer(34_827_376)
        let mismatch = await refusal { _ = try await disclosureClient(daemon, chain.importer).deposit(wrong) }
        #expect(mismatch?.status == 409 && mismatch?.slug == "commitment-mismatch")
        #expect(mismatch?.pointer == "/value" && mismatch?.logIndex == index)
        #expect(mismatch?.detail.contains("do not open /valueCommitment of entry \(index) (kp.export)") == true)

        // The wrong field, an event without commitments, an entry past the log.
        var field = chain.deposit
        field.field = "/termsCommitment"
        let wrongField = await refusal { _ = try await disclosureClient(daemon, chain.exporter).deposit(field) }
        #expect(wrongField?.status == 400 && wrongField?.slug == "invalid-disclosure" && wrongField?.pointer == "/field")
        var extract = chain.deposit
        extract.index = chain.extractIndex
        let noCommitment = await refusal { _ = try await disclosureClient(daemon, chain.exporter).deposit(extract) }
        #expect(noCommitment?.status == 400 && noCommitment?.detail.contains("parcel.extract event, which carries no commitment") == true)
        var past = chain.deposit
        past.index = 999
        let missing = await refusal { _ = try await disclosureClient(daemon, chain.exporter).deposit(past) }
        #expect(missing?.status == 404 && missing?.slug == "not-found" && missing?.pointer == "/index")
        let missingRead = await refusal { _ = try await disclosureClient(daemon, chain.auditor).disclosures(index: 999) }
        #expect(missingRead?.status == 404 && missingRead?.parameter == "index" && missingRead?.pointer == nil)

        // A malformed deposit: an extra member, a short salt.
        let extra = try await signedRequest(daemon, key: chain.exporter, method: "POST",
                                            body: Array(#"{"index":\#(index),"field":"/valueCommitment","salt":"AAAA","value":1,"x":1}"#.utf8))
        #expect(extra.status == 400 && extra.problem?.pointer == "/x")
        var short = chain.deposit
        short.salt = "AAAAAAAA"
        let shortSalt = await refusal { _ = try await disclosureClient(daemon, chain.exporter).deposit(short) }
        #expect(shortSalt?.status == 400 && shortSalt?.pointer == "/salt")
        try await daemon.stop()
    }

    @Test("a deposit survives a daemon restart")
    func survivesRestart() async throws {
        var daemon = try await LiveDaemon.start()
        let chain = try await ExportChain.build(on: daemon)
        let (record, created) = try await disclosureClient(daemon, chain.exporter).deposit(chain.deposit)
        #expect(created)
        try await daemon.stop()
        #expect(FileManager.default.fileExists(atPath: daemon.dataDir + "/disclosures.sqlite"))
        daemon = try await LiveDaemon.start(dataDir: daemon.dataDir)
        #expect(try await disclosureClient(daemon, chain.importer).disclosures(index: chain.exportIndex) == [record])
        let again = try await disclosureClient(daemon, chain.exporter).deposit(chain.deposit)
        #expect(!again.created && again.record == record)
        try await daemon.stop()
    }

    @Test("signed requests: each way of getting the signature wrong is a 401 or 403 problem naming it")
    func signatureRefusals() async throws {
        let daemon = try await LiveDaemon.start()
        let chain = try await ExportChain.build(on: daemon)
        let index = chain.exportIndex
        let body = chain.deposit.json

        // A correctly signed read, as a baseline.
        #expect(try await signedRequest(daemon, key: chain.importer, index: index).status == 200)

        // Wrong key: signed by another key under the importer's key id.
        let impostor = try await signedRequest(daemon, key: SigningKey.generate(), keyID: chain.importer.publicKey.keyID, index: index)
        #expect(impostor.status == 401 && impostor.problem?.slug == "signature-mismatch" && impostor.problem?.pointer == nil)
        #expect(impostor.problem?.detail.contains("does not verify with key \(chain.importer.publicKey.keyID) of be-importer") == true)

        // Altered path and altered query after signing.
        let path = try await signedRequest(daemon, key: chain.importer, index: index, signedPath: "/v1/entries")
        #expect(path.status == 401 && path.problem?.slug == "signature-mismatch")
        let query = try await signedRequest(daemon, key: chain.importer, index: index) { request in
            request.url = URL(string: daemon.baseURL.absoluteString + "/v1/disclosures?index=\(chain.extractIndex)")!
        }
        #expect(query.status == 401 && query.problem?.slug == "signature-mismatch")

        // Altered body (its digest no longer matches), and an altered digest (no longer what was signed).
        let alteredBody = try await signedRequest(daemon, key: chain.exporter, method: "POST", body: body) { request in
            request.httpBody = Data(DisclosureDeposit(index: index, field: "/valueCommitment", salt: chain.deposit.salt, value: 1).json)
        }
        #expect(alteredBody.status == 401 && alteredBody.problem?.slug == "content-digest-mismatch")
        #expect(alteredBody.problem?.detail.contains("Content-Digest") == true)
        let alteredDigest = try await signedRequest(daemon, key: chain.exporter, method: "POST", body: body) { request in
            let other = DisclosureDeposit(index: index, field: "/valueCommitment", salt: chain.deposit.salt, value: 1).json
            request.httpBody = Data(other)
            request.setValue(ContentDigest.sha256(other), forHTTPHeaderField: "Content-Digest")
        }
        #expect(alteredDigest.status == 401 && alteredDigest.problem?.slug == "signature-mismatch")
        let noDigest = try await signedRequest(daemon, key: chain.exporter, method: "POST", body: body) { request in
            request.setValue(nil, forHTTPHeaderField: "Content-Digest")
        }
        #expect(noDigest.status == 401 && noDigest.problem?.slug == "content-digest-mismatch")

        // Stale and future created; an expired signature.
        let now = Int64(Date().timeIntervalSince1970)
        let stale = try await signedRequest(daemon, key: chain.importer, index: index, created: now - 600)
        #expect(stale.status == 401 && stale.problem?.slug == "stale-signature")
        #expect(stale.problem?.detail.contains("s before the daemon's clock") == true)
        let future = try await signedRequest(daemon, key: chain.importer, index: index, created: now + 600)
        #expect(future.status == 401 && future.problem?.slug == "stale-signature")
        let expired = try await signedRequest(daemon, key: chain.importer, index: index, expires: now - 1)
        #expect(expired.status == 401 && expired.problem?.slug == "stale-signature")

        // Unknown key; revoked key.
        let unknown = try await signedRequest(daemon, key: SigningKey.generate(), index: index)
        #expect(unknown.status == 403 && unknown.problem?.slug == "unknown-key")
        #expect(unknown.problem?.detail.contains("is not registered in the log") == true)
        let revoke = try await daemon.client.submit(envelope: Data(try envelope("participant.key.revoke", signer: "be-importer",
                                                                                key: chain.importer, [
            ("participant", .string("be-importer")), ("keyId", .string(chain.importer.publicKey.keyID)), ("reason", .string("test")),
        ]).leafInput))
        let revoked = try await signedRequest(daemon, key: chain.importer, index: index)
        #expect(revoked.status == 403 && revoked.problem?.slug == "unknown-key")
        #expect(revoked.problem?.detail.contains("was revoked at index \(revoke.index + 1)") == true)

        // Missing Signature header; too few covered components; a body without content-digest; a bad alg.
        let noSignature = try await signedRequest(daemon, key: chain.exporter, index: index) { request in
            request.setValue(nil, forHTTPHeaderField: "Signature")
        }
        #expect(noSignature.status == 401 && noSignature.problem?.slug == "signature-required")
        #expect(noSignature.problem?.detail.contains("Signature missing") == true)
        let methodOnly = try await signedRequest(daemon, key: chain.exporter, index: index, components: ["@method"])
        #expect(methodOnly.status == 401 && methodOnly.problem?.slug == "invalid-signature-input")
        #expect(methodOnly.problem?.detail.contains("missing: \"@authority\", \"@path\", \"@query\"") == true)
        let targetURI = try await signedRequest(daemon, key: chain.exporter, index: index, components: ["@method", "@target-uri"])
        #expect(targetURI.status == 200)
        let bodyUncovered = try await signedRequest(daemon, key: chain.exporter, method: "POST", body: body,
                                                    components: ["@method", "@authority", "@path", "@query"])
        #expect(bodyUncovered.status == 401 && bodyUncovered.problem?.detail.contains("must cover \"content-digest\"") == true)
        let garbage = try await signedRequest(daemon, key: chain.exporter, index: index) { request in
            request.setValue("sig1=(\"@method\"", forHTTPHeaderField: "Signature-Input")
        }
        #expect(garbage.status == 401 && garbage.problem?.slug == "invalid-signature-input" && garbage.problem?.detail.contains("Signature-Input") == true)
        try await daemon.stop()
    }
}

/// A request signed by `key` (under `keyID`, default the key's own) to `/v1/disclosures`: a GET of `index`,
/// or a POST of `body`; `signedPath` is signed in place of the real path; `alter` changes it after signing.
func signedRequest(_ daemon: LiveDaemon, key: SigningKey, keyID: String? = nil, method: String = "GET", index: UInt64 = 0,
                   body: [UInt8]? = nil, created: Int64 = Int64(Date().timeIntervalSince1970), expires: Int64? = nil,
                   components: [String]? = nil, signedPath: String? = nil,
                   alter: (inout URLRequest) -> Void = { _ in }) async throws -> RawResponse {
    var url = URLComponents(url: daemon.baseURL.appendingPathComponent("v1/disclosures"), resolvingAgainstBaseURL: false)!
    if method == "GET" { url.percentEncodedQuery = "index=\(index)" }
    var request = URLRequest(url: url.url!)
    request.httpMethod = method
    var covered = components ?? ["@method", "@authority", "@path", "@query"]
    if let body {
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(ContentDigest.sha256(body), forHTTPHeaderField: "Content-Digest")
        if components == nil { covered.append("content-digest") }
    }
    let input = HTTPMessageSignatures.input(components: covered, created: created, keyID: keyID ?? key.publicKey.keyID, expires: expires)
    var message = try RequestSigner.message(of: request)
    if let signedPath { message.path = signedPath }
    let fields = try HTTPMessageSignatures.sign(message, input: input, key: key)
    request.setValue(fields.signatureInput, forHTTPHeaderField: "Signature-Input")
    request.setValue(fields.signature, forHTTPHeaderField: "Signature")
    alter(&request)
    return try await send(request)
}
