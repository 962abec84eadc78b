/// Proves that bytes are already in RFC 8785 canonical form without building a value: the fast path of an
/// audit, whose stored envelopes were canonicalised when they were appended.
///
/// The scanner accepts only the plain subset of JSON that events are made of: ASCII text without escapes,
/// integers within ±(2^53−1), `true`, `false`, `null`, and objects whose keys are strictly increasing. When
/// ``scanValue(_:from:)`` returns an end, the bytes are a value that ``JSONParser`` accepts and that
/// ``CanonicalJSON/encode(_:)`` writes back byte for byte. When it returns nil, nothing is claimed (the value
/// may still be canonical, with escapes or non-ASCII text, or it may be malformed): callers then parse and
/// re-encode.
public enum CanonicalScanner {
    /// One top-level member of a scanned object: the byte ranges of its key (inside the quotes) and its value.
    public struct Member: Sendable {
        public let key: Range<Int>
        public let value: Range<Int>
    }

    /// Nesting the scanner follows before it gives up (well within ``JSONParser/defaultMaxDepth``).
    static let maxDepth = 32

    /// Scans the canonical value that starts at `start`; the index just after it, or nil (see the type).
    public static func scanValue(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var scanner = Scanner(bytes: bytes, position: start, recordsMembers: false)
        return scanner.value(depth: 0) ? scanner.position : nil
    }

    /// Scans the canonical object that starts at `start`, recording its top-level members; the index just
    /// after it and the members, or nil (see the type).
    public static func scanObject(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, members: [Member])? {
        var scanner = Scanner(bytes: bytes, position: start, recordsMembers: true)
        guard scanner.object(depth: 0) else { return nil }
        return (scanner.position, scanner.members)
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int
        /// Whether the outermost object's members are recorded in `members`.
        let recordsMembers: Bool
        var members: [Member] = []

        init(bytes: UnsafeBufferPointer<UInt8>, position: Int, recordsMembers: Bool) {
            self.bytes = bytes
            self.position = position
            self.recordsMembers = recordsMembers
            if recordsMembers { members.reserveCapacity(16) }
        }

        @inline(__always) func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        @inline(__always) mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard let first = peek() else { return false }
            switch first {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return integer()
            }
        }

        /// `{` members `}` with strictly increasing ASCII keys: for ASCII, byte order is UTF-16 order, and
        /// strictly increasing also rules out the duplicates the parser refuses.
        mutating func object(depth: Int) -> Bool {
            guard depth < CanonicalScanner.maxDepth, take(UInt8(ascii: "{")) else { return false }
            if take(UInt8(ascii: "}")) { return true }
            var previous: Range<Int>? = nil
            while true {
                guard let key = string() else { return false }
                if let previous, !ascending(previous, key) { return false }
                previous = key
                guard take(UInt8(ascii: ":")) else { return false }
                let valueStart = position
                guard value(depth: depth + 1) else { return false }
                if depth == 0 && recordsMembers { members.append(Member(key: key, value: valueStart..<position)) }
                if take(UInt8(ascii: "}")) { return true }
                guard take(UInt8(ascii: ",")) else { return false }
            }
        }

        mutating func array(depth: Int) -> Bool {
            guard depth < CanonicalScanner.maxDepth, take(UInt8(ascii: "[")) else { return false }
            if take(UInt8(ascii: "]")) { return true }
            while true {
                guard value(depth: depth + 1) else { return false }
                if take(UInt8(ascii: "]")) { return true }
                guard take(UInt8(ascii: ",")) else { return false }
            }
        }

        /// A string of printable ASCII without escapes; the range of its contents.
        mutating func string() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count {
                let c = bytes[position]
                if c == UInt8(ascii: "\"") {
                    position += 1
                    return start..<(position - 1)
                }
                // Control characters need escapes, a backslash is one, and non-ASCII needs UTF-8 checks and
                // UTF-16 key order: all of these are left to the parser.
                guard c >= 0x20, c < 0x7f, c != UInt8(ascii: "\\") else { return nil }
                position += 1
            }
            return nil
        }

        /// `0` or `-?[1-9][0-9]*` within ±(2^53−1): the canonical form of a safe integer. A fraction or an
        /// exponent, `-0` and leading zeros are left to the parser.
        mutating func integer() -> Bool {
            let negative = take(UInt8(ascii: "-"))
            guard let first = peek(), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
            if first == UInt8(ascii: "0") {
                position += 1
                if negative { return false }
            } else {
                var magnitude: Int64 = 0
                while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                    magnitude = magnitude * 10 + Int64(c - UInt8(ascii: "0"))
                    guard magnitude <= JSONValue.maxSafeInteger else { return false }
                    position += 1
                }
            }
            if let next = peek(), next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E")
                || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) {
                return false
            }
            return true
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            for i in 0..<count where bytes[position + i] != word.utf8Start[i] { return false }
            position += count
            return true
        }

        /// Whether key `a` sorts strictly before key `b` (bytewise).
        func ascending(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
            let n = min(a.count, b.count)
            for i in 0..<n {
                let x = bytes[a.lowerBound + i], y = bytes[b.lowerBound + i]
                if x != y { return x < y }
            }
            return a.count < b.count
        }
    }
}
