import CustodyCrypto
import CustodyLog
import Foundation
import Testing

/// The plain recursive RFC 9162 definitions, used as the reference the stored-node algorithms must match.
enum Reference {
    static func mth(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return SHA256.hash([])
        case 1: return Merkle.leafHash(leaves.first!)
        default:
            let k = largestPowerOfTwoBelow(leaves.count)
            return Merkle.nodeHash(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
        }
    }

    static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwoBelow(leaves.count)
        if m < k { return path(m, leaves.prefix(k)) + [mth(leaves.dropFirst(k))] }
        return path(m - k, leaves.dropFirst(k)) + [mth(leaves.prefix(k))]
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<[UInt8]>, _ b: Bool) -> [[UInt8]] {
        let n = leaves.count
        if m == n { return b ? [] : [mth(leaves)] }
        let k = largestPowerOfTwoBelow(n)
        if m <= k { return subproof(m, leaves.prefix(k), b) + [mth(leaves.dropFirst(k))] }
        return subproof(m - k, leaves.dropFirst(k), false) + [mth(leaves.prefix(k))]
    }

    static func largestPowerOfTwoBelow(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// An in-memory node store fed by `MerkleFrontier`, the same way the SQLite store is.
final class MemoryNodes: MerkleNodeReader {
    var leaves: [[UInt8]] = []
    var nodes: [String: [UInt8]] = [:]
    var frontier = MerkleFrontier()
    var reads = 0

    func append(_ data: [UInt8]) {
        let h = Merkle.leafHash(data)
        leaves.append(h)
        for n in frontier.append(leafHash: h) { nodes["\(n.level)/\(n.index)"] = n.hash }
    }

    func node(level: Int, index: UInt64) throws -> [UInt8] {
        reads += 1
        if level == 0 { return leaves[Int(index)] }
        guard let h = nodes["\(level)/\(index)"] else { throw MissingNode() }
        return h
    }
}

struct MissingNode: Error {}

func leafData(_ i: Int) -> [UInt8] { Array("leaf \(i)".utf8) }

@Suite("RFC 9162 Merkle tree")
struct MerkleTests {
    @Test("roots, inclusion and consistency proofs for every size 1...64 match the recursive reference")
    func againstReference() throws {
        let data = (0..<64).map(leafData)
        let store = MemoryNodes()
        for n in 1...64 {
            store.append(data[n - 1])
            let size = UInt64(n)
            let root = Reference.mth(data[0..<n])
            #expect(try Merkle.root(size: size, reader: store) == root)
            #expect(store.frontier.root == root)
            for m in 0..<n {
                let proof = try Merkle.inclusionProof(index: UInt64(m), size: size, reader: store)
                #expect(proof == Reference.path(m, data[0..<n]), "inclusion \(m) in \(n)")
                try Merkle.verifyInclusion(leafHash: Merkle.leafHash(data[m]), index: UInt64(m), size: size,
                                           proof: proof, root: root)
            }
            for m in 1..<n {
                let proof = try Merkle.consistencyProof(first: UInt64(m), second: size, reader: store)
                #expect(proof == Reference.subproof(m, data[0..<n], true), "consistency \(m) to \(n)")
                try Merkle.verifyConsistency(first: UInt64(m), second: size, firstRoot: Reference.mth(data[0..<m]),
                                             secondRoot: root, proof: proof)
            }
        }
    }

    @Test("an append whose node handler throws leaves the frontier as it was")
    func appendThatThrowsChangesNothing() throws {
        struct Refused: Error {}
        var frontier = MerkleFrontier()
        for i in 0..<7 { frontier.append(leafHash: Merkle.leafHash([UInt8(i)])) }
        let before = frontier
        // The 8th leaf completes three nodes; the handler refuses the second.
        var seen = 0
        #expect(throws: Refused.self) {
            try frontier.append(leafHash: Merkle.leafHash([7])) { _ in
                seen += 1
                if seen == 2 { throw Refused() }
            }
        }
        #expect(frontier == before)
        let completed = frontier.append(leafHash: Merkle.leafHash([7]))
        #expect(completed.map(\.level) == [1, 2, 3])
        #expect(frontier.root == Reference.mth((0..<8).map { [UInt8($0)] }[...]))
    }

    @Test("a wrong leaf, index or root fails verification")
    func negatives() throws {
        let store = MemoryNodes()
        for i in 0..<13 { store.append(leafData(i)) }
        let root = try Merkle.root(size: 13, reader: store)
        let proof = try Merkle.inclusionProof(index: 5, size: 13, reader: store)
        #expect(throws: MerkleError.self) {
            try Merkle.verifyInclusion(leafHash: Merkle.leafHash(leafData(6)), index: 5, size: 13, proof: proof, root: root)
        }
        #expect(throws: MerkleError.self) {
            try Merkle.verifyInclusion(leafHash: Merkle.leafHash(leafData(5)), index: 4, size: 13, proof: proof, root: root)
        }
        #expect(throws: MerkleError.self) {
            try Merkle.verifyInclusion(leafHash: Merkle.leafHash(leafData(5)), index: 5, size: 13, proof: proof.dropLast(), root: root)
        }
        let c = try Merkle.consistencyProof(first: 7, second: 13, reader: store)
        let root7 = try Merkle.root(size: 7, reader: store)
        #expect(throws: MerkleError.self) {
            try Merkle.verifyConsistency(first: 7, second: 13, firstRoot: root, secondRoot: root, proof: c)
        }
        #expect(throws: MerkleError.self) {
            try Merkle.verifyConsistency(first: 7, second: 13, firstRoot: root7, secondRoot: root7, proof: c)
        }
    }

    @Test("proofs read O(log n) stored nodes")
    func logarithmicReads() throws {
        let store = MemoryNodes()
        let n = 5_000
        for i in 0..<n { store.append(leafData(i)) }
        let bound = 4 * (UInt64(n).bitWidth - UInt64(n).leadingZeroBitCount)  // 4·⌈log2 n⌉
        for index in [0, 1, 2_047, 2_048, 4_095, 4_999] {
            store.reads = 0
            _ = try Merkle.inclusionProof(index: UInt64(index), size: UInt64(n), reader: store)
            #expect(store.reads <= bound, "inclusion of \(index) read \(store.reads) nodes")
        }
        store.reads = 0
        _ = try Merkle.consistencyProof(first: 1_234, second: UInt64(n), reader: store)
        #expect(store.reads <= bound)
        store.reads = 0
        let reloaded = try MerkleFrontier(size: UInt64(n), reader: store)
        #expect(reloaded == store.frontier)
        #expect(store.reads <= bound)
    }
}

/// The transparency-dev/merkle test data: `{leafIdx, treeSize, root, leafHash, proof, desc, wantErr}`.
struct InclusionVector: Decodable, Sendable, CustomTestStringConvertible {
    let leafIdx: UInt64
    let treeSize: UInt64
    let root: String
    let leafHash: String
    let proof: [String]?
    let desc: String
    let wantErr: Bool
    var file = ""
    var testDescription: String { file }
    enum CodingKeys: String, CodingKey { case leafIdx, treeSize, root, leafHash, proof, desc, wantErr }
}

struct ConsistencyVector: Decodable, Sendable, CustomTestStringConvertible {
    let size1: UInt64
    let size2: UInt64
    let root1: String
    let root2: String
    let proof: [String]?
    let desc: String
    let wantErr: Bool
    var file = ""
    var testDescription: String { file }
    enum CodingKeys: String, CodingKey { case size1, size2, root1, root2, proof, desc, wantErr }
}

func loadVectors<T: Decodable>(_ folder: String, as: T.Type, named: (inout T, String) -> Void) -> [T] {
    let base = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/merkle/\(folder)")
    let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)!
        .compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }
        .sorted { $0.path < $1.path }
    return files.map { url in
        var v = try! JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        named(&v, String(url.path.dropFirst(base.path.count + 1)))
        return v
    }
}

/// Lenient base64 for the vectors, which deliberately hold values of the wrong length.
func b64(_ s: String) -> [UInt8] { [UInt8](Data(base64Encoded: s) ?? Data()) }

let inclusionVectors = loadVectors("inclusion", as: InclusionVector.self) { $0.file = $1 }
let consistencyVectors = loadVectors("consistency", as: ConsistencyVector.self) { $0.file = $1 }

@Suite("transparency-dev/merkle vectors")
struct MerkleVectorTests {
    @Test("vectors are present") func present() {
        #expect(inclusionVectors.count > 30)
        #expect(consistencyVectors.count > 30)
    }

    @Test("inclusion", arguments: inclusionVectors)
    func inclusion(_ v: InclusionVector) {
        let ok = (try? Merkle.verifyInclusion(leafHash: b64(v.leafHash), index: v.leafIdx, size: v.treeSize,
                                              proof: (v.proof ?? []).map(b64), root: b64(v.root))) != nil
        #expect(ok == !v.wantErr, "\(v.desc)")
    }

    @Test("consistency", arguments: consistencyVectors)
    func consistency(_ v: ConsistencyVector) {
        let ok = (try? Merkle.verifyConsistency(first: v.size1, second: v.size2, firstRoot: b64(v.root1),
                                                secondRoot: b64(v.root2), proof: (v.proof ?? []).map(b64))) != nil
        #expect(ok == !v.wantErr, "\(v.desc)")
    }
}
