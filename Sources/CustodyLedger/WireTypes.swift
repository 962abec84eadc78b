import CustodyCrypto
import CustodyLog
import CustodyModel
import Foundation

/// What a participant gets back for an appended event: where it is, and proof that it is in a signed tree.
public struct Receipt: Codable, Sendable, Equatable {
    /// Log index of the event.
    public var index: UInt64
    /// Lowercase hex SHA-256 of the canonical body.
    public var eventId: String
    /// Base64 RFC 9162 leaf hash.
    public var leafHash: String
    /// Base64 chain hash.
    public var chainHash: String
    /// When the log sequenced it (RFC 3339, milliseconds).
    public var loggedAt: String
    /// True when the event was already in the log and this is its original receipt.
    public var duplicate: Bool
    /// The signed checkpoint (C2SP note) the proof is against.
    public var checkpoint: String
    /// Inclusion proof of the leaf in the checkpoint's tree.
    public var inclusionProof: InclusionProof
}

/// RFC 9162 inclusion proof as served: `{"leafIndex","treeSize","auditPath"}`.
public struct InclusionProof: Codable, Sendable, Equatable {
    /// Index of the leaf.
    public var leafIndex: UInt64
    /// Size of the tree the proof is for.
    public var treeSize: UInt64
    /// Base64 hashes from the leaf up.
    public var auditPath: [String]

    /// A proof from raw hashes.
    public init(leafIndex: UInt64, treeSize: UInt64, path: [[UInt8]]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        auditPath = path.map { Base64.encode($0) }
    }

    /// A proof from base64 hashes.
    init(leafIndex: UInt64, treeSize: UInt64, auditPath: [String]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.auditPath = auditPath
    }

    /// The raw path; nil when a node is not base64.
    public var path: [[UInt8]]? {
        var out: [[UInt8]] = []
        for p in auditPath {
            guard let raw = Base64.decode(p) else { return nil }
            out.append(raw)
        }
        return out
    }
}

/// RFC 9162 consistency proof as served: `{"first","second","consistency"}`.
public struct ConsistencyProof: Codable, Sendable, Equatable {
    /// The earlier tree size.
    public var first: UInt64
    /// The later tree size.
    public var second: UInt64
    /// Base64 hashes.
    public var consistency: [String]

    /// A proof from raw hashes.
    public init(first: UInt64, second: UInt64, path: [[UInt8]]) {
        self.first = first
        self.second = second
        consistency = path.map { Base64.encode($0) }
    }

    /// The raw path; nil when a node is not base64.
    public var path: [[UInt8]]? {
        var out: [[UInt8]] = []
        for p in consistency {
            guard let raw = Base64.decode(p) else { return nil }
            out.append(raw)
        }
        return out
    }
}

/// One log entry on the wire, shaped like RFC 6962 get-entries.
public struct EntryDTO: Codable, Sendable, Equatable {
    /// Log index.
    public var index: UInt64
    /// Base64 of the exact stored bytes.
    public var leafInput: String
    /// Base64 leaf hash.
    public var leafHash: String
    /// Base64 chain hash.
    public var chainHash: String
    /// RFC 3339 time it was logged.
    public var loggedAt: String

    /// The wire form of a stored entry.
    public init(_ e: LogEntry) {
        index = e.index
        leafInput = Base64.encode(e.leafInput)
        leafHash = Base64.encode(e.leafHash)
        chainHash = Base64.encode(e.chainHash)
        loggedAt = RFC3339.format(millis: e.loggedAtMillis)
    }

    /// Back to a `LogEntry`; nil when a field is not well-formed.
    public var logEntry: LogEntry? {
        guard let input = Base64.decode(leafInput), let leaf = Base64.decode(leafHash),
              let chain = Base64.decode(chainHash), let millis = RFC3339.millis(loggedAt)
        else { return nil }
        return LogEntry(index: index, leafInput: input, leafHash: leaf, chainHash: chain, loggedAtMillis: millis)
    }
}

/// A page of entries.
public struct EntriesPage: Codable, Sendable {
    /// Entries in index order.
    public var entries: [EntryDTO]
    /// A page from entries.
    public init(entries: [EntryDTO]) { self.entries = entries }
}

/// One signed checkpoint on the wire.
public struct CheckpointDTO: Codable, Sendable, Equatable {
    /// The tree size it signs.
    public var treeSize: UInt64
    /// The C2SP signed note, exactly as `GET /v1/checkpoint` serves the latest.
    public var note: String
    /// A checkpoint of `treeSize` entries.
    public init(treeSize: UInt64, note: String) {
        self.treeSize = treeSize
        self.note = note
    }
}

/// A page of signed checkpoints, in increasing tree size.
public struct CheckpointsPage: Codable, Sendable {
    /// Checkpoints in increasing tree size.
    public var checkpoints: [CheckpointDTO]
    /// A page from checkpoints.
    public init(checkpoints: [CheckpointDTO]) { self.checkpoints = checkpoints }
}

/// RFC 9457 problem details, with our extension members.
public struct Problem: Codable, Sendable, Equatable {
    /// `urn:custody:problem:<slug>`.
    public var type: String
    /// Short title of the kind.
    public var title: String
    /// HTTP status.
    public var status: Int
    /// What is wrong in this case.
    public var detail: String
    /// RFC 6901 JSON pointer of the offending member of the request body.
    public var pointer: String?
    /// Name of the offending query or path parameter.
    public var parameter: String?
    /// Position in a batch.
    public var item: Int?
    /// A log index the problem concerns.
    public var logIndex: UInt64?
    /// The custody rule broken, if a rule refused the event.
    public var rule: String?

    /// The problem document for a ledger error.
    public init(_ error: LedgerError, item: Int? = nil) {
        type = "urn:custody:problem:\(error.kind.rawValue)"
        title = error.kind.title
        status = error.kind.status
        detail = error.detail
        pointer = error.pointer
        parameter = error.parameter
        self.item = item
        logIndex = error.logIndex
        rule = error.rule
    }

    /// The slug from the type URI.
    public var slug: String { type.hasPrefix("urn:custody:problem:") ? String(type.dropFirst(20)) : type }
}

/// One item of a batch response.
public struct BatchItemResult: Codable, Sendable {
    /// `accepted` or `rejected`.
    public var status: String
    /// The receipt when accepted.
    public var receipt: Receipt?
    /// The problem when rejected.
    public var problem: Problem?

    /// The wire form of one submission's outcome.
    public init(_ result: Result<Receipt, LedgerError>, item: Int) {
        switch result {
        case .success(let r):
            status = "accepted"
            receipt = r
        case .failure(let e):
            status = "rejected"
            problem = Problem(e, item: item)
        }
    }
}

/// The response to a batch submission, in the order submitted.
public struct BatchResult: Codable, Sendable {
    /// One result per submitted envelope.
    public var results: [BatchItemResult]
    /// A batch result from item results.
    public init(results: [BatchItemResult]) { self.results = results }
}

/// `GET /healthz`.
public struct Health: Codable, Sendable {
    /// `ok`.
    public var status: String
    /// Current tree size.
    public var treeSize: UInt64
    /// A health document.
    public init(status: String, treeSize: UInt64) {
        self.status = status
        self.treeSize = treeSize
    }
}

extension Problem {
    /// A problem not tied to a ledger error (unknown route, internal error).
    public init(type: String, title: String, status: Int, detail: String) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
    }
}

// MARK: Hand-written JSON for the append path

/// JSON of the append responses written directly, byte for byte what `JSONEncoder` with sorted keys and
/// unescaped slashes writes for them (a test holds the two to it), at a fraction of its cost: receipts are
/// most of what the append path sends.
enum ResponseJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// A JSON string. Runs that need no escape (all of a hash, most of a checkpoint note) are copied whole.
    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                escape(b, into: &out)
                start = i + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func escape(_ b: UInt8, into out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        default:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
    }

    /// `{"<path>":[hashes…],"<a>":n,"<b>":m}`: both proof objects, whose keys already sort in this order.
    static func proof(_ open: StaticString, _ hashes: [String], _ a: StaticString, _ first: UInt64, _ b: StaticString,
                      _ second: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 48 * hashes.count)
        raw(open, into: &out)
        strings(hashes, into: &out)
        raw(a, into: &out)
        number(first, into: &out)
        raw(b, into: &out)
        number(second, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Comma-separated JSON strings (the inside of an array).
    static func strings(_ items: [String], into out: inout [UInt8]) {
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            string(item, into: &out)
        }
    }

    static func number(_ n: UInt64, into out: inout [UInt8]) {
        out.append(contentsOf: String(n).utf8)
    }

    static func raw(_ s: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

extension InclusionProof {
    /// The proof as the API sends it (what `JSONEncoder` with sorted keys writes, without its cost).
    public func jsonBytes() -> [UInt8] {
        ResponseJSON.proof(#"{"auditPath":["#, auditPath, #"],"leafIndex":"#, leafIndex, #","treeSize":"#, treeSize)
    }
}

extension ConsistencyProof {
    /// The proof as the API sends it (what `JSONEncoder` with sorted keys writes, without its cost).
    public func jsonBytes() -> [UInt8] {
        ResponseJSON.proof(#"{"consistency":["#, consistency, #"],"first":"#, first, #","second":"#, second)
    }
}

extension Receipt {
    /// The receipt as the API sends it.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(400 + checkpoint.utf8.count + 48 * inclusionProof.auditPath.count)
        write(into: &out)
        return out
    }

    func write(into out: inout [UInt8]) {
        ResponseJSON.raw(#"{"chainHash":"#, into: &out)
        ResponseJSON.string(chainHash, into: &out)
        ResponseJSON.raw(#","checkpoint":"#, into: &out)
        ResponseJSON.string(checkpoint, into: &out)
        ResponseJSON.raw(duplicate ? #","duplicate":true,"eventId":"# : #","duplicate":false,"eventId":"#, into: &out)
        ResponseJSON.string(eventId, into: &out)
        ResponseJSON.raw(#","inclusionProof":{"auditPath":["#, into: &out)
        ResponseJSON.strings(inclusionProof.auditPath, into: &out)
        ResponseJSON.raw(#"],"leafIndex":"#, into: &out)
        ResponseJSON.number(inclusionProof.leafIndex, into: &out)
        ResponseJSON.raw(#","treeSize":"#, into: &out)
        ResponseJSON.number(inclusionProof.treeSize, into: &out)
        ResponseJSON.raw(#"},"index":"#, into: &out)
        ResponseJSON.number(index, into: &out)
        ResponseJSON.raw(#","leafHash":"#, into: &out)
        ResponseJSON.string(leafHash, into: &out)
        ResponseJSON.raw(#","loggedAt":"#, into: &out)
        ResponseJSON.string(loggedAt, into: &out)
        out.append(UInt8(ascii: "}"))
    }
}

extension BatchResult {
    /// The batch response as the API sends it.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(results.count * 1_400 + 16)
        ResponseJSON.raw(#"{"results":["#, into: &out)
        for (i, item) in results.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            if let receipt = item.receipt, item.problem == nil {
                ResponseJSON.raw(#"{"receipt":"#, into: &out)
                receipt.write(into: &out)
                ResponseJSON.raw(#","status":"#, into: &out)
                ResponseJSON.string(item.status, into: &out)
                out.append(UInt8(ascii: "}"))
            } else {
                // Refusals are rare and varied: the encoder writes them.
                out.append(contentsOf: (try? ResponseJSON.encoder.encode(item)) ?? Data())
            }
        }
        ResponseJSON.raw("]}", into: &out)
        return out
    }
}
