import Foundation

/// A JSON object read in place from bytes that ``CanonicalScanner`` accepts, without building a tree of
/// values: an audit reads every stored event's body, and the tree (an array, a string and an enum per member)
/// cost more than the few fields the rules look at.
///
/// Only the plain subset the scanner proves is accepted (ASCII text without escapes, safe integers, literals,
/// objects with strictly increasing keys), so every read here gives what the same read of
/// ``JSONParser``'s tree gives: a string's bytes are its text, an integer's digits its value.
public struct CanonicalObjectView: Sendable {
    /// The buffer the object is in (shared, not copied).
    public let bytes: [UInt8]
    /// Where the object is in `bytes`, braces included.
    public let range: Range<Int>
    private let members: [CanonicalScanner.Member]

    /// The object that fills `bytes`, or nil when they are not one object of the plain canonical subset.
    public init?(_ bytes: [UInt8]) {
        self.init(bytes, range: 0..<bytes.count)
    }

    /// The object at `range` of `bytes`, or nil when that range is not one object of the plain canonical subset.
    public init?(_ bytes: [UInt8], range: Range<Int>) {
        guard range.upperBound <= bytes.count,
              let (end, members) = bytes.withUnsafeBufferPointer({ CanonicalScanner.scanObject($0, from: range.lowerBound) }),
              end == range.upperBound else { return nil }
        self.bytes = bytes
        self.range = range
        self.members = members
    }

    /// The object that ``CanonicalScanner/scanObject(_:from:)`` scanned at `range` of `bytes`, with the members
    /// it recorded: a reader that has scanned the object already does not scan it twice.
    package init(scanned bytes: [UInt8], range: Range<Int>, members: [CanonicalScanner.Member]) {
        self.bytes = bytes
        self.range = range
        self.members = members
    }

    /// The value of the member named `key`, or nil if there is none.
    public subscript(key: String) -> CanonicalValueView? {
        guard let i = index(of: key) else { return nil }
        return CanonicalValueView(bytes: bytes, range: members[i].value)
    }

    /// Whether a member named `key` exists.
    public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// The number of members.
    public var count: Int { members.count }

    /// The first key, in stored order, for which `predicate` holds.
    public func firstKey(where predicate: (String) throws -> Bool) rethrows -> String? {
        for member in members {
            let key = text(member.key)
            if try predicate(key) { return key }
        }
        return nil
    }

    /// The same object as a tree of values.
    public func materialized() -> JSONObject {
        // The scanner proved these bytes an object the parser accepts.
        guard case .object(let object)? = try? JSONParser.parse(Array(bytes[range])) else {
            preconditionFailure("CanonicalScanner accepted an object that JSONParser refuses")
        }
        return object
    }

    private func index(of key: String) -> Int? {
        var key = key
        return key.withUTF8 { k in
            bytes.withUnsafeBufferPointer { b in
                members.firstIndex { m in
                    m.key.count == k.count && (k.isEmpty || memcmp(b.baseAddress! + m.key.lowerBound, k.baseAddress!, k.count) == 0)
                }
            }
        }
    }

    private func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
}

/// One value inside a ``CanonicalObjectView``'s bytes.
public struct CanonicalValueView: Sendable {
    let bytes: [UInt8]
    /// Where the value is in `bytes` (a string's quotes included).
    let range: Range<Int>

    private var first: UInt8 { bytes[range.lowerBound] }

    /// The text, if this is a string (the scanner admits no escapes, so its bytes are its text).
    public var string: String? {
        guard first == UInt8(ascii: "\"") else { return nil }
        return String(decoding: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)], as: UTF8.self)
    }

    /// The value, if this is a number (the scanner admits only integers within ±(2^53−1)).
    public var int64: Int64? {
        var i = range.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < range.upperBound, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else { return nil }
        var magnitude: Int64 = 0
        while i < range.upperBound {
            magnitude = magnitude * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
            i += 1
        }
        return negative ? -magnitude : magnitude
    }

    /// The object, if this is one.
    public var object: CanonicalObjectView? {
        guard first == UInt8(ascii: "{") else { return nil }
        return CanonicalObjectView(bytes, range: range)
    }

    /// The elements, if this is an array.
    public var items: [CanonicalValueView]? {
        guard first == UInt8(ascii: "[") else { return nil }
        var out: [CanonicalValueView] = []
        var position = range.lowerBound + 1
        if bytes[position] == UInt8(ascii: "]") { return out }
        bytes.withUnsafeBufferPointer { b in
            while let end = CanonicalScanner.scanValue(b, from: position) {
                out.append(CanonicalValueView(bytes: bytes, range: position..<end))
                // `,` or the closing `]` (the array was scanned whole before).
                position = end + 1
                if b[end] == UInt8(ascii: "]") { break }
            }
        }
        return out
    }

    /// The same value as a tree: literals, strings and integers directly, arrays and objects through the parser.
    public var jsonValue: JSONValue {
        switch first {
        case UInt8(ascii: "\""): return .string(string!)
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard let value = try? JSONParser.parse(Array(bytes[range])) else {
                preconditionFailure("CanonicalScanner accepted a value that JSONParser refuses")
            }
            return value
        default: return .number(Double(int64!))
        }
    }
}
