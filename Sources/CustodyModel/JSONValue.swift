import Foundation

/// A JSON value as RFC 8259 defines it, restricted to what RFC 8785 (JCS) can canonicalize exactly.
///
/// Equality and hashing are *exact*: strings and object keys compare by Unicode scalars (their UTF-8
/// bytes), never by Swift's canonical equivalence, so two values are equal only if their canonical
/// encodings are equal. (Swift's `String ==` would, for example, treat the Kelvin sign `"\u{212A}"`
/// as equal to `"K"`.) Numbers compare as `Double`, so `-0` equals `0`, as in their canonical form.
public enum JSONValue: Sendable {
    /// The literal `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number. Values from ``JSONParser`` are finite and, under its default number policy, integral
    /// ones are within ±(2^53−1).
    /// ``CanonicalJSON/encode(_:)`` traps on non-finite values, which JSON cannot represent.
    case number(Double)
    /// A string of Unicode scalars (JSON escapes already decoded).
    case string(String)
    /// An array, in document order.
    case array([JSONValue])
    /// An object; see ``JSONObject``.
    case object(JSONObject)
}

extension JSONValue {
    /// The largest integer magnitude that JCS represents exactly: 2^53−1.
    public static let maxSafeInteger: Int64 = 9_007_199_254_740_991

    /// The string, if this is a string.
    @inlinable public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, if this is a number.
    @inlinable public var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The number as an integer, if it is integral and within ±(2^53−1); `nil` otherwise
    /// (fractions are not silently truncated).
    @inlinable public var int64Value: Int64? {
        guard case .number(let d) = self,
              d >= -9_007_199_254_740_991, d <= 9_007_199_254_740_991,
              d.rounded(.towardZero) == d else { return nil }
        return Int64(d)
    }

    /// The boolean, if this is `true` or `false`.
    @inlinable public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    @inlinable public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    @inlinable public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is `null` (as opposed to a missing member, which subscripts report as `nil`).
    @inlinable public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member named `key`, if this is an object that has one; `nil` for non-objects.
    @inlinable public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Makes a number from an integer. Precondition: within ±(2^53−1), so the value stays exact.
    @inlinable public static func integer(_ value: Int64) -> JSONValue {
        precondition(value >= -maxSafeInteger && value <= maxSafeInteger,
                     "JSON integer \(value) is outside ±(2^53−1)")
        return .number(Double(value))
    }
}

extension JSONValue: Hashable {
    /// Exact structural equality; see the type's documentation.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return exactEquals(a, b)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// Hashes consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0 as UInt8)
        case .bool(let b): hasher.combine(1 as UInt8); hasher.combine(b)
        case .number(let d): hasher.combine(2 as UInt8); hasher.combine(d)
        case .string(let s): hasher.combine(3 as UInt8); exactHash(s, into: &hasher)
        case .array(let a): hasher.combine(4 as UInt8); hasher.combine(a)
        case .object(let o): hasher.combine(5 as UInt8); hasher.combine(o)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// `nil` literal → `null`.
    public init(nilLiteral: ()) { self = .null }
    /// Boolean literal → `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Integer literal → `.number` (must be within ±(2^53−1)).
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// Float literal → `.number`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// String literal → `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Array literal → `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Dictionary literal → `.object`, members in literal order. Precondition: unique keys.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

/// A JSON object: members in document (or insertion) order, keys unique.
///
/// Keys are compared exactly (by Unicode scalars, not canonical equivalence). Equality ignores member
/// order, as RFC 8259 objects are unordered and JCS sorts them; iteration keeps the stored order.
/// Lookups scan linearly, which is fastest for the small objects the ledger handles; the parser itself
/// detects duplicate keys in large objects in linear time.
public struct JSONObject: Sendable {
    /// One member. A struct rather than a tuple: tuple arrays need runtime metadata lookups.
    @usableFromInline internal struct Member: Sendable {
        @usableFromInline var key: String
        @usableFromInline var value: JSONValue
        @inlinable init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    @usableFromInline internal var members: [Member]

    /// An empty object.
    @inlinable public init() { members = [] }

    /// Members in the given order. Precondition: keys are unique (compared exactly); use
    /// ``init(validating:)`` for untrusted input.
    public init(_ members: [(String, JSONValue)]) {
        precondition(JSONObject.firstDuplicateKey(in: members.lazy.map { $0.0 }) == nil,
                     "JSONObject keys must be unique")
        self.members = members.map { Member(key: $0.0, value: $0.1) }
    }

    /// Members in the given order, or `nil` if a key occurs twice (compared exactly).
    public init?(validating members: [(String, JSONValue)]) {
        guard JSONObject.firstDuplicateKey(in: members.lazy.map { $0.0 }) == nil else { return nil }
        self.members = members.map { Member(key: $0.0, value: $0.1) }
    }

    /// For the parser, which has already checked uniqueness.
    @usableFromInline internal init(uncheckedMembers: [Member]) {
        members = uncheckedMembers
    }

    /// The value of the member named `key`, or `nil` if there is none.
    @inlinable public subscript(key: String) -> JSONValue? {
        guard let i = index(of: key) else { return nil }
        return members[i].value
    }

    /// The keys in stored order.
    @inlinable public var keys: [String] { members.map(\.key) }

    /// The first key, in stored order, for which `predicate` holds (without building the array of keys).
    @inlinable public func firstKey(where predicate: (String) throws -> Bool) rethrows -> String? {
        for member in members where try predicate(member.key) { return member.key }
        return nil
    }

    /// The number of members.
    @inlinable public var count: Int { members.count }

    /// Whether the object has no members.
    @inlinable public var isEmpty: Bool { members.isEmpty }

    /// Whether a member named `key` exists.
    @inlinable public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// Replaces the value of `key` in place, or appends a new member at the end.
    @inlinable public mutating func set(_ key: String, _ value: JSONValue) {
        if let i = index(of: key) {
            members[i].value = value
        } else {
            members.append(Member(key: key, value: value))
        }
    }

    /// Removes the member named `key` and returns its value, if present.
    @inlinable @discardableResult public mutating func remove(_ key: String) -> JSONValue? {
        guard let i = index(of: key) else { return nil }
        return members.remove(at: i).value
    }

    /// A copy without the member named `key` (unchanged if absent), e.g. a body minus its signature.
    @inlinable public func removing(_ key: String) -> JSONObject {
        var copy = self
        copy.remove(key)
        return copy
    }

    @usableFromInline internal func index(of key: String) -> Int? {
        withUTF8Bytes(key) { k in
            members.withUnsafeBufferPointer { members in
                for i in members.indices where bytesEqual(members[i].key, k) { return i }
                return nil
            }
        }
    }

    /// The first key that repeats an earlier one, if any (linear time for large inputs).
    internal static func firstDuplicateKey<C: Collection>(in keys: C) -> String? where C.Element == String {
        if keys.count <= 16 {
            var seen: [String] = []
            seen.reserveCapacity(keys.count)
            for k in keys {
                if seen.contains(where: { exactEquals($0, k) }) { return k }
                seen.append(k)
            }
            return nil
        }
        var seen = Set<ExactKey>(minimumCapacity: keys.count)
        for k in keys where !seen.insert(ExactKey(k)).inserted { return k }
        return nil
    }
}

extension JSONObject: Sequence {
    /// Members as `(key, value)` pairs in stored order.
    public typealias Element = (key: String, value: JSONValue)
    /// Iterates members in stored order.
    @inlinable public func makeIterator() -> Iterator { Iterator(members: members) }

    /// Yields `(key, value)` pairs in stored order.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let members: [Member]
        @usableFromInline var position = 0
        @inlinable init(members: [Member]) { self.members = members }
        /// The next member, or `nil` after the last.
        @inlinable public mutating func next() -> (key: String, value: JSONValue)? {
            guard position < members.count else { return nil }
            defer { position += 1 }
            return (key: members[position].key, value: members[position].value)
        }
    }
    /// The exact member count.
    @inlinable public var underestimatedCount: Int { members.count }
}

extension JSONObject: Hashable {
    /// Same members with equal values, in any order (keys compared exactly).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        // Fast path: same order (always the case for two parses of canonical bytes).
        var sameOrder = true
        for i in lhs.members.indices {
            guard exactEquals(lhs.members[i].key, rhs.members[i].key) else { sameOrder = false; break }
            guard lhs.members[i].value == rhs.members[i].value else { return false }
        }
        if sameOrder { return true }
        if lhs.members.count > 16 {
            var index = [ExactKey: Int](minimumCapacity: rhs.members.count)
            for (i, m) in rhs.members.enumerated() { index[ExactKey(m.key)] = i }
            for m in lhs.members {
                guard let j = index[ExactKey(m.key)], rhs.members[j].value == m.value else { return false }
            }
            return true
        }
        for m in lhs.members {
            guard let v = rhs[m.key], v == m.value else { return false }
        }
        return true
    }

    /// Order-independent hash, consistent with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        var sum = 0
        for m in members {
            var h = Hasher()
            exactHash(m.key, into: &h)
            h.combine(m.value)
            sum = sum &+ h.finalize()
        }
        hasher.combine(sum)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Members in literal order. Precondition: unique keys.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

// MARK: - Exact (scalar-wise) string comparison

/// A `String` wrapper whose equality and hash use the UTF-8 bytes, not canonical equivalence.
internal struct ExactKey: Hashable {
    let string: String
    init(_ string: String) { self.string = string }
    static func == (a: ExactKey, b: ExactKey) -> Bool { exactEquals(a.string, b.string) }
    func hash(into hasher: inout Hasher) { exactHash(string, into: &hasher) }
}

/// Runs `body` on the UTF-8 of `string`, without copying native (including small) strings.
@inline(__always)
internal func withUTF8Bytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    if let r = try string.utf8.withContiguousStorageIfAvailable(body) { return r }
    var copy = string
    return try copy.withUTF8(body)
}

/// Byte-wise equality of two strings' UTF-8 (i.e. equality of their Unicode scalars).
internal func exactEquals(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    return withUTF8Bytes(b) { bytesEqual(a, $0) }
}

/// Whether `a`'s UTF-8 equals `bytes`.
@inline(__always)
internal func bytesEqual(_ a: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.utf8.count == bytes.count else { return false }
    return withUTF8Bytes(a) { x in
        guard let p = x.baseAddress, let q = bytes.baseAddress else { return true }  // both empty
        return memcmp(p, q, bytes.count) == 0
    }
}

internal func exactHash(_ s: String, into hasher: inout Hasher) {
    withUTF8Bytes(s) { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    hasher.combine(0xFF as UInt8)  // terminator (0xFF never occurs in UTF-8)
}
