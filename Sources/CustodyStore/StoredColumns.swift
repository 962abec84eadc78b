import CustodyCrypto
#if canImport(Glibc)
import Glibc
#endif

/// What an audit checks of a run of entry rows beyond their `LogEntry`: each row's event-id column, and any
/// column whose storage class is not the one custodyd writes (a blob turned into text keeps its bytes, so
/// only its type shows the change).
///
/// The ids are kept in one buffer, not an array each: an audit reads one per entry, and an array for each
/// would be allocated and freed as often. Each takes a slot of 33 bytes: a mark that the stored value was a
/// blob of 32 bytes, as every id is, then those bytes. Any other value matches no id.
public struct StoredColumns: Sendable {
    private static let slot = 33
    private var bytes: [UInt8] = []
    /// Rows (by position) with a column of another storage class, and which; empty in an intact log.
    private var mistyped: [Int: String] = [:]

    /// No rows.
    public init() {}

    /// The number of rows.
    public var count: Int { bytes.count / Self.slot }

    /// Makes room for `count` rows in all.
    public mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(count * Self.slot) }

    /// Appends a row's stored event id, `value`, a blob when `isBlob`.
    mutating func appendEventID(_ value: UnsafeRawBufferPointer, isBlob: Bool) {
        if isBlob && value.count == 32 {
            bytes.append(1)
            bytes.append(contentsOf: value)
        } else {
            bytes.append(contentsOf: repeatElement(0, count: Self.slot))
        }
    }

    /// Records that the last row appended has `problem` (a column of the wrong storage class).
    mutating func markLast(_ problem: String) {
        if mistyped[count - 1] == nil { mistyped[count - 1] = problem }
    }

    /// Appends the rows of `other`, after these.
    public mutating func append(contentsOf other: StoredColumns) {
        for (row, problem) in other.mistyped { mistyped[count + row] = problem }
        bytes += other.bytes
    }

    /// Whether the id stored in row `i` is `id`.
    public func eventIDMatches(_ id: SHA256.Digest, at i: Int) -> Bool {
        precondition(i >= 0 && i < count, "row \(i) of \(count)")
        return bytes.withUnsafeBufferPointer { stored in
            let start = stored.baseAddress! + i * Self.slot
            return start[0] == 1 && id.withUnsafeBytes { memcmp(start + 1, $0.baseAddress!, 32) == 0 }
        }
    }

    /// What is wrong with the storage classes of row `i`'s columns, if anything.
    public func problem(at i: Int) -> String? { mistyped.isEmpty ? nil : mistyped[i] }
}
