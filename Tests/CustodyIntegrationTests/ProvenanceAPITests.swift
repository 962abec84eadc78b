import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyModel
import CustodyProjections
import Foundation
import Testing

@Suite("Provenance and status over HTTP", .serialized)
struct ProvenanceAPITests {
    @Test("the demo stone's provenance, status under each policy, as-of answers, and an auditor's rebuild that matches")
    func provenanceAndStatus() async throws {
        let daemon = try await LiveDaemon.start()
        let chain = DemoChain(registrar: daemon.registrarKey, tag: "pv")
        let steps = try await chain.run { try await daemon.client.submit(envelope: Data($0.leafInput)) }
        let stone = "BW-JW-pv-0001-A-1-S1"

        let p = try await daemon.client.provenance(stone)
        #expect(p["form"]?.stringValue == "polished" && p["status"]?.stringValue == "sold")
        let origin = try #require(p["origin"]?.arrayValue?.first?.objectValue)
        #expect(origin["country"]?.stringValue == "BW" && origin["share"]?.stringValue == "1/1")
        #expect(p["lineage"]?.arrayValue?.compactMap { $0.objectValue?["parcel"]?.stringValue }
                == ["BW-JW-pv-0001-A-1", "BW-JW-pv-0001-A", "BW-JW-pv-0001"])
        #expect(p["asOf"]?.int64Value == Int64(steps.count + 1))

        for policy in ["kp-core", "kp-expanded", "g7-russia", "oecd-red-flags"] {
            let s = try await daemon.client.status(stone, policy: policy)
            #expect(s["status"]?.stringValue == "compliant", "\(policy): \(s)")
        }

        // As of the tree size before the stone was cut it did not exist: 404 naming the size.
        let cut = try #require(steps.first { $0.type == "parcel.manufacture" }?.receipt.index)
        let early = try await rawRequest(URL(string: "\(daemon.baseURL.absoluteString)/v1/parcels/\(stone)/provenance?asOf=\(cut)")!, method: "GET")
        #expect(early.status == 404 && early.problem?.detail.contains("as of tree size \(cut)") == true)
        // As of right after the cut it existed, active, in the polisher's custody.
        let justCut = try await daemon.client.provenance(stone, asOf: cut + 1)
        #expect(justCut["status"]?.stringValue == "active" && justCut["custodian"]?.stringValue == "surat-pv")

        // Bad parameters are problems that name them.
        let unknownPolicy = try await rawRequest(URL(string: "\(daemon.baseURL.absoluteString)/v1/parcels/\(stone)/status?policy=nope")!, method: "GET")
        #expect(unknownPolicy.status == 400 && unknownPolicy.problem?.parameter == "policy" && unknownPolicy.problem?.pointer == nil)
        let beyond = try await rawRequest(URL(string: "\(daemon.baseURL.absoluteString)/v1/parcels/\(stone)/provenance?asOf=9999")!, method: "GET")
        #expect(beyond.status == 400 && beyond.problem?.parameter == "asOf")

        // Listing by status: every parcel of the demo is compliant under kp-core; none is non-compliant.
        let page = try await daemon.client.statusPage(policy: "kp-core", status: nil, after: nil, limit: 100, asOf: nil)
        #expect((page["items"]?.arrayValue?.count ?? 0) >= 7)
        let bad = try await daemon.client.statusPage(policy: "kp-core", status: "non-compliant", after: nil, limit: 100, asOf: nil)
        #expect(bad["items"]?.arrayValue?.isEmpty == true)

        // An auditor replays the log, rebuilds the projections and gets the daemon's digest.
        let treeSize = UInt64(steps.count + 1)
        let audit = try await ProjectionAudit.run(source: RemoteAuditSource(client: daemon.client), treeSize: treeSize,
                                                  scratchPath: NSTemporaryDirectory() + "pv-audit-\(UUID().uuidString).sqlite",
                                                  client: daemon.client)
        #expect(audit.served == audit.digest && audit.firstDifference == nil && audit.records > 20)
        try await daemon.stop()
    }

    @Test("deleting the projection file loses nothing: the daemon rebuilds it from the log")
    func rebuildAfterDelete() async throws {
        let dir = NSTemporaryDirectory() + "custody-it-\(UUID().uuidString)"
        var daemon = try await LiveDaemon.start(dataDir: dir)
        let chain = DemoChain(registrar: daemon.registrarKey, tag: "rb")
        _ = try await chain.run { try await daemon.client.submit(envelope: Data($0.leafInput)) }
        let before = try await daemon.client.provenance("BW-JW-rb-0001-A-1-S1")
        let digest = try await daemon.client.projectionDigest(asOf: 24)
        try await daemon.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/projections.sqlite" + suffix) }
        daemon = try await LiveDaemon.start(dataDir: dir)
        let after = try await daemon.client.provenance("BW-JW-rb-0001-A-1-S1")
        #expect(CanonicalJSON.encode(.object(after)) == CanonicalJSON.encode(.object(before)))
        #expect(try await daemon.client.projectionDigest(asOf: 24)["sha256"] == digest["sha256"])
        try await daemon.stop()
    }
}
