import CustodyCrypto
#if canImport(Glibc)
import Glibc
#endif

/// The event-id column of a run of entries, as stored, in one buffer: an audit reads one per entry, and an
/// array for each would be allocated and freed as often. Each id takes a slot of 33 bytes: a mark that the
/// stored value was 32 bytes long, as every id is, then those bytes. A value of another length matches no id.
public struct StoredEventIDs: Sendable {
    private static let slot = 33
    private var bytes: [UInt8] = []

    /// No ids.
    public init() {}

    /// The number of ids.
    public var count: Int { bytes.count / Self.slot }

    /// Makes room for `count` ids in all.
    public mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(count * Self.slot) }

    /// Appends the stored value `value`.
    public mutating func append(_ value: UnsafeRawBufferPointer) {
        if value.count == 32 {
            bytes.append(1)
            bytes.append(contentsOf: value)
        } else {
            bytes.append(contentsOf: repeatElement(0, count: Self.slot))
        }
    }

    /// Appends the ids of `other`, after these.
    public mutating func append(contentsOf other: StoredEventIDs) { bytes += other.bytes }

    /// Whether the id stored at position `i` is `id`.
    public func matches(_ id: SHA256.Digest, at i: Int) -> Bool {
        precondition(i >= 0 && i < count, "id \(i) of \(count)")
        return bytes.withUnsafeBufferPointer { stored in
            let start = stored.baseAddress! + i * Self.slot
            return start[0] == 1 && id.withUnsafeBytes { memcmp(start + 1, $0.baseAddress!, 32) == 0 }
        }
    }
}
