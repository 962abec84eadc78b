import Foundation

/// RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes that the ledger hashes and signs.
///
/// The output has no whitespace; object members are sorted by their keys' UTF-16 code units; strings
/// escape only `"`, `\` and U+0000–U+001F (as `\b \t \n \f \r` or lowercase `\u00xx`) and keep every other
/// character, including U+2028/U+2029 and non-ASCII, as literal UTF-8; numbers are printed as
/// ECMAScript's `Number.prototype.toString` prints them (shortest round-trip digits, `1e+21`, `1e-7`,
/// `-0` as `0`, integers without `.0`).
public enum CanonicalJSON {
    /// RFC 8785 canonical bytes of a value.
    ///
    /// Precondition: every number is finite (JSON has no NaN or infinity); values from ``JSONParser``
    /// always are. Recursion depth equals the value's nesting depth.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var writer = ByteWriter(capacity: 512)
        defer { writer.deallocate() }
        write(value, into: &writer)
        return writer.bytes()
    }

    /// Appends the canonical bytes of `value` to `out`, e.g. to build a larger buffer.
    public static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        var writer = ByteWriter(capacity: 512)
        defer { writer.deallocate() }
        write(value, into: &writer)
        writer.append(to: &out)
    }

    /// Parse strictly, then encode canonically.
    ///
    /// Accepts and rejects exactly what ``JSONParser`` does (same grammar code, default depth limit;
    /// `numbers` is the parser's ``JSONParser/NumberPolicy``) and gives `encode(parse(bytes))`, but never
    /// builds a ``JSONValue``: strings stay bytes, which makes it several times faster.
    public static func canonicalize(
        _ bytes: [UInt8], numbers: JSONParser.NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> [UInt8] {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in try canonicalize(bytes: buffer, numbers: numbers) }
        }
        return try result.get()
    }

    /// Parse strictly, then encode canonically, from `Data`.
    public static func canonicalize(
        _ data: Data, numbers: JSONParser.NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> [UInt8] {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) in try canonicalize(raw, numbers: numbers) }
        }
        return try result.get()
    }

    /// Parse strictly, then encode canonically, from raw memory (e.g. a network buffer).
    public static func canonicalize(
        _ buffer: UnsafeRawBufferPointer, numbers: JSONParser.NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> [UInt8] {
        let result = buffer.withMemoryRebound(to: UInt8.self) { bytes in
            Result { () throws(JSONParseError) in try canonicalize(bytes: bytes, numbers: numbers) }
        }
        return try result.get()
    }

    static func canonicalize(
        bytes: UnsafeBufferPointer<UInt8>, numbers: JSONParser.NumberPolicy
    ) throws(JSONParseError) -> [UInt8] {
        let arena = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { arena.deallocate() }
        let tape = try JSONParser.run(bytes, maxDepth: JSONParser.defaultMaxDepth, numbers: numbers,
                                      sink: TapeBuilder(inputCount: bytes.count, arena: arena))
        return tape.canonicalBytes()
    }

    /// Whether key `a` sorts before key `b` in JCS order (by UTF-16 code units, not by scalars).
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        withUTF8Bytes(a) { x in withUTF8Bytes(b) { y in utf16Less(x, y) } }
    }

    // MARK: - Implementation

    /// A growable output buffer written through a raw pointer (no per-byte uniqueness checks).
    struct ByteWriter {
        private(set) var base: UnsafeMutablePointer<UInt8>
        private(set) var count = 0
        private var capacity: Int

        init(capacity: Int) {
            self.capacity = max(capacity, 16)
            base = .allocate(capacity: self.capacity)
        }

        func deallocate() { base.deallocate() }

        func bytes() -> [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

        func append(to out: inout [UInt8]) { out.append(contentsOf: UnsafeBufferPointer(start: base, count: count)) }

        @inline(__always) mutating func reserve(_ extra: Int) {
            if count + extra > capacity { grow(count + extra) }
        }

        @inline(never) mutating func grow(_ needed: Int) {
            let newCapacity = max(needed, capacity * 2)
            let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBase.update(from: base, count: count)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }

        @inline(__always) mutating func byte(_ b: UInt8) {
            if count == capacity { grow(count + 1) }
            base[count] = b
            count += 1
        }

        /// Appends without a capacity check; call ``reserve(_:)`` first.
        @inline(__always) mutating func unsafeByte(_ b: UInt8) {
            base[count] = b
            count += 1
        }

        /// Stores all 8 bytes of a little-endian word but keeps only the first `keep`; the rest are
        /// overwritten later. Needs 8 reserved bytes.
        @inline(__always) mutating func unsafeWord(_ word: UInt64, keeping keep: Int) {
            UnsafeMutableRawPointer(base + count).storeBytes(of: word.littleEndian, as: UInt64.self)
            count += keep
        }

        @inline(__always) mutating func bytes(_ p: UnsafeBufferPointer<UInt8>) {
            guard let source = p.baseAddress else { return }
            reserve(p.count)
            (base + count).update(from: source, count: p.count)
            count += p.count
        }

        @inline(__always) mutating func bytes(_ p: UnsafeRawBufferPointer) {
            guard let source = p.baseAddress else { return }
            reserve(p.count)
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: p.count)
            count += p.count
        }
    }

    static func write(_ value: JSONValue, into w: inout ByteWriter) {
        switch value {
        case .null:
            w.reserve(4)
            w.unsafeByte(0x6E); w.unsafeByte(0x75); w.unsafeByte(0x6C); w.unsafeByte(0x6C)  // null
        case .bool(true):
            w.reserve(4)
            w.unsafeByte(0x74); w.unsafeByte(0x72); w.unsafeByte(0x75); w.unsafeByte(0x65)  // true
        case .bool(false):
            w.reserve(5)
            w.unsafeByte(0x66); w.unsafeByte(0x61); w.unsafeByte(0x6C); w.unsafeByte(0x73); w.unsafeByte(0x65)  // false
        case .number(let d):
            writeNumber(d, into: &w)
        case .string(let s):
            writeString(s, into: &w)
        case .array(let elements):
            w.byte(0x5B)
            elements.withUnsafeBufferPointer { elements in
                for i in elements.indices {
                    if i > 0 { w.byte(0x2C) }
                    write(elements[i], into: &w)
                }
            }
            w.byte(0x5D)
        case .object(let object):
            writeObject(object, into: &w)
        }
    }

    /// A member's place in the sort: the first 8 bytes of its key, mapped so that integer order is
    /// UTF-16 order (see ``utf16Weight(_:)``), and its position. Equal prefixes fall back to a full compare.
    struct SortEntry {
        var prefix: UInt64
        var index: Int
    }

    @inline(__always)
    static func sortPrefix(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let x = loadPadded(key, 0, fill: 0)
        if x & 0x8080_8080_8080_8080 == 0 { return x.byteSwapped }  // ASCII: weights are the bytes
        var prefix: UInt64 = 0
        for j in 0..<min(key.count, 8) { prefix |= UInt64(utf16Weight(key[j])) << (56 - 8 * j) }
        return prefix
    }

    /// The 8 bytes of `bytes` from `i` as a little-endian word (first byte lowest); past the end, bytes
    /// are `fill`. Never reads outside the buffer.
    @inline(__always)
    static func loadPadded(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int, fill: UInt8) -> UInt64 {
        let remaining = bytes.count - i
        if remaining >= 8 {
            return UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self))
        }
        let fillWord = 0x0101_0101_0101_0101 &* UInt64(fill)
        guard remaining > 0 else { return fillWord }
        if bytes.count >= 8 {  // load the last 8 bytes and shift the wanted ones down
            let last = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + bytes.count - 8)
                .loadUnaligned(as: UInt64.self))
            let shift = UInt64(8 * (8 - remaining))  // 8…56
            return last >> shift | fillWord << (64 - shift)
        }
        var x = fillWord
        for j in 0..<remaining {
            let s = UInt64(8 * j)
            x = x & ~(0xFF << s) | UInt64(bytes[i + j]) << s
        }
        return x
    }

    static func writeObject(_ object: JSONObject, into w: inout ByteWriter) {
        object.members.withUnsafeBufferPointer { members in
            let n = members.count
            w.byte(0x7B)
            if n == 1 {
                writeString(members[0].key, into: &w)
                w.byte(0x3A)
                write(members[0].value, into: &w)
            } else if n > 1 {
                withUnsafeTemporaryAllocation(of: SortEntry.self, capacity: n) { entries in
                    for i in 0..<n {
                        let prefix = withUTF8Bytes(members[i].key) { sortPrefix($0) }
                        (entries.baseAddress! + i).initialize(to: SortEntry(prefix: prefix, index: i))
                    }
                    sortMembers(entries) { keyPrecedes(members[$0].key, members[$1].key) }
                    for k in 0..<n {
                        if k > 0 { w.byte(0x2C) }
                        let i = entries[k].index
                        writeString(members[i].key, into: &w)
                        w.byte(0x3A)
                        write(members[i].value, into: &w)
                    }
                }
            }
            w.byte(0x7D)
        }
    }

    /// Sorts members into JCS order by their prefixes, breaking prefix ties with `keyLess` on the
    /// entries' indices. Leaves already sorted input alone after one pass.
    @inline(__always)
    static func sortMembers(_ entries: UnsafeMutableBufferPointer<SortEntry>, keyLess: (Int, Int) -> Bool) {
        func less(_ a: SortEntry, _ b: SortEntry) -> Bool {
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return keyLess(a.index, b.index)
        }
        let n = entries.count
        var sorted = true
        for i in 1..<n where !less(entries[i - 1], entries[i]) {
            sorted = false
            break
        }
        if sorted { return }
        if n <= 24 {  // insertion sort: few members
            for i in 1..<n {
                let e = entries[i]
                var j = i
                while j > 0, less(e, entries[j - 1]) {
                    entries[j] = entries[j - 1]
                    j -= 1
                }
                entries[j] = e
            }
        } else {
            var buffer = entries
            buffer.sort(by: less)
        }
    }

    /// UTF-16 order of two UTF-8 strings. UTF-8 byte order is scalar order, which equals UTF-16 order
    /// except that U+E000–U+FFFF sort *after* supplementary scalars in UTF-16 (whose high surrogates are
    /// D800–DBFF). Both strings are equal up to the first differing byte, so that byte is either a lead
    /// byte in both or a continuation byte in both; lifting the leads EE/EF (U+E000–U+FFFF) above F0–F4
    /// (supplementary) gives UTF-16 order.
    @inline(__always)
    static func utf16Less(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i]
            let y = b[i]
            if x != y {
                return utf16Weight(x) < utf16Weight(y)
            }
            i += 1
        }
        return a.count < b.count
    }

    /// Maps a UTF-8 byte so that byte order becomes UTF-16 order: EE/EF → FE/FF. Only lead bytes can be
    /// EE or EF (continuation bytes are 80–BF), and F5–FF never occur in UTF-8, so the map is safe to
    /// apply to every byte.
    @inline(__always)
    static func utf16Weight(_ byte: UInt8) -> UInt8 {
        byte == 0xEE || byte == 0xEF ? byte &+ 0x10 : byte
    }

    static func writeString(_ string: String, into w: inout ByteWriter) {
        withUTF8Bytes(string) { writeEscaped($0, into: &w) }
    }

    /// Writes UTF-8 `bytes` as a JCS string literal.
    static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into w: inout ByteWriter) {
        let n = bytes.count
        // Room for the text without escapes, plus slack for whole-word stores; escapes reserve more.
        w.reserve(n + 2 + 8)
        w.unsafeByte(0x22)
        var i = 0
        while i < n {
            // 8 bytes at a time: store the word, keep the bytes before the first one to escape.
            let word = loadPadded(bytes, i, fill: 0x20)  // padding (spaces) never needs escaping
            let flags = escapeFlags(word)
            let clean = flags == 0 ? min(8, n - i) : flags.trailingZeroBitCount >> 3
            w.unsafeWord(word, keeping: clean)
            i += clean
            guard flags != 0 else { continue }
            let b = bytes[i]
            i += 1
            w.reserve(6 + (n - i) + 1 + 8)
            w.unsafeByte(0x5C)
            switch b {
            case 0x22: w.unsafeByte(0x22)
            case 0x5C: w.unsafeByte(0x5C)
            case 0x08: w.unsafeByte(0x62)  // \b
            case 0x09: w.unsafeByte(0x74)  // \t
            case 0x0A: w.unsafeByte(0x6E)  // \n
            case 0x0C: w.unsafeByte(0x66)  // \f
            case 0x0D: w.unsafeByte(0x72)  // \r
            default:  // \u00xx, lowercase hex
                let hex: StaticString = "0123456789abcdef"
                w.unsafeByte(0x75); w.unsafeByte(0x30); w.unsafeByte(0x30)
                w.unsafeByte(hex.utf8Start[Int(b >> 4)])
                w.unsafeByte(hex.utf8Start[Int(b & 0x0F)])
            }
        }
        w.unsafeByte(0x22)
    }

    /// Flags (bit 7 of each byte) the bytes of a little-endian word that JCS escapes: below 0x20, `"`
    /// and `\`. SWAR: a flag can be spurious only above a genuine one, so `flags == 0` and the lowest
    /// flag (`trailingZeroBitCount / 8`) are exact.
    @inline(__always)
    static func escapeFlags(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = x ^ (ones &* 0x22)
        let backslash = x ^ (ones &* 0x5C)
        let control = (x &- ones &* 0x20) & ~x
        return (control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highs
    }

    static func writeNumber(_ d: Double, into w: inout ByteWriter) {
        precondition(d.isFinite, "JSON cannot represent the number \(d)")
        if d == 0 {  // 0 and -0
            w.byte(0x30)
            return
        }
        let magnitude = d.magnitude
        if magnitude < 9_007_199_254_740_992, magnitude.rounded(.towardZero) == magnitude {
            if d < 0 { w.byte(0x2D) }
            writeDecimal(UInt64(magnitude), into: &w)
            return
        }
        writeECMAScript(d, into: &w)
    }

    static func writeDecimal(_ value: UInt64, into w: inout ByteWriter) {
        if value < 10 {
            w.byte(0x30 &+ UInt8(value))
            return
        }
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { raw in
            var i = raw.count
            var x = value
            while x > 0 {
                i -= 1
                raw[i] = 0x30 &+ UInt8(x % 10)
                x /= 10
            }
            w.bytes(UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }

    /// Number::toString for non-integers and huge integers, from Swift's shortest round-trip digits
    /// (`Double.description` chooses the shortest digit string that round-trips and, among those, the
    /// closest to the exact value, as ECMAScript requires); only the layout is redone here.
    static func writeECMAScript(_ d: Double, into w: inout ByteWriter) {
        let text = d.description  // e.g. "0.1", "1e-07", "1.7976931348623157e+308", "333333333.3333332"
        withUTF8Bytes(text) { s in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: s.count) { digits in
                var k = 0  // digits collected
                var pointAt = -1
                var exponent = 0
                var i = 0
                if s[0] == 0x2D {
                    w.byte(0x2D)
                    i = 1
                }
                while i < s.count {
                    let c = s[i]
                    if c >= 0x30, c <= 0x39 {
                        digits[k] = c
                        k += 1
                    } else if c == 0x2E {
                        pointAt = k
                    } else if c == 0x65 || c == 0x45 {  // e
                        i += 1
                        var negative = false
                        if s[i] == 0x2D || s[i] == 0x2B {
                            negative = s[i] == 0x2D
                            i += 1
                        }
                        while i < s.count {
                            exponent = exponent * 10 + Int(s[i] - 0x30)
                            i += 1
                        }
                        if negative { exponent = -exponent }
                        break
                    }
                    i += 1
                }
                // value = 0.d1 d2 … × 10^n, with d1 ≠ 0 and no trailing zeros.
                var n = (pointAt < 0 ? k : pointAt) + exponent
                var lo = 0
                while lo < k, digits[lo] == 0x30 {
                    lo += 1
                    n -= 1
                }
                var hi = k
                while hi > lo, digits[hi - 1] == 0x30 { hi -= 1 }
                let count = hi - lo
                let significant = UnsafeBufferPointer(rebasing: digits[lo..<hi])

                if count <= n, n <= 21 {
                    w.bytes(significant)
                    for _ in 0..<(n - count) { w.byte(0x30) }
                } else if 0 < n, n <= 21 {
                    w.bytes(UnsafeBufferPointer(rebasing: significant[0..<n]))
                    w.byte(0x2E)
                    w.bytes(UnsafeBufferPointer(rebasing: significant[n...]))
                } else if -6 < n, n <= 0 {
                    w.byte(0x30)
                    w.byte(0x2E)
                    for _ in 0..<(-n) { w.byte(0x30) }
                    w.bytes(significant)
                } else {
                    let e = n - 1
                    w.byte(significant[0])
                    if count > 1 {
                        w.byte(0x2E)
                        w.bytes(UnsafeBufferPointer(rebasing: significant[1...]))
                    }
                    w.byte(0x65)
                    w.byte(e < 0 ? 0x2D : 0x2B)
                    writeDecimal(UInt64(e.magnitude), into: &w)
                }
            }
        }
    }
}

// MARK: - Direct canonicalization

/// Records a document as a flat tape of nodes with its decoded strings in one byte arena, then writes
/// the canonical form from it. This is `encode(parse(bytes))` without a `String` or array per value.
struct TapeBuilder: ParseSink {
    enum Kind: UInt8 {
        case null, `false`, `true`, number, string, array, object
    }

    /// For strings (values and keys): `a` = arena offset, `b` = length. Numbers: `a` = the bit pattern.
    /// Containers: `a` = the index after their last descendant, `b` = member count (objects).
    /// An object's children alternate key, value.
    struct Node {
        var kind: Kind
        var a: Int
        var b: Int
    }

    struct Open {
        var node: Int
        var keyStart: Int
    }

    var nodes: [Node] = []
    /// Decoded strings, back to back. Owned by the caller (``CanonicalJSON/canonicalize(bytes:numbers:)``),
    /// sized to the input, which decoded strings never exceed.
    let arena: UnsafeMutablePointer<UInt8>
    var arenaCount = 0
    var open: [Open] = []
    /// Node indices of the keys of all open objects, flattened, with their fingerprints.
    var keyNodes: [Int] = []
    var keyPrints: [UInt64] = []
    /// Exact-key sets of open objects with many members, by depth.
    var largeKeySets: [Int: Set<ExactKey>] = [:]

    init(inputCount: Int, arena: UnsafeMutablePointer<UInt8>) {
        self.arena = arena
        nodes.reserveCapacity(inputCount / 8 + 8)
        open.reserveCapacity(8)
        keyNodes.reserveCapacity(16)
        keyPrints.reserveCapacity(16)
    }

    mutating func null() { nodes.append(Node(kind: .null, a: 0, b: 0)) }
    mutating func bool(_ value: Bool) { nodes.append(Node(kind: value ? .true : .false, a: 0, b: 0)) }
    mutating func number(_ value: Double) {
        nodes.append(Node(kind: .number, a: Int(truncatingIfNeeded: value.bitPattern), b: 0))
    }
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {
        nodes.append(Node(kind: .string, a: arenaCount, b: bytes.count))
        if let source = bytes.baseAddress { (arena + arenaCount).update(from: source, count: bytes.count) }
        arenaCount += bytes.count
    }

    mutating func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let depth = open.count - 1
        let start = open[depth].keyStart
        let existing = keyNodes.count - start
        let print = keyFingerprint(bytes)
        if existing < linearKeyLimit {
            for i in start..<keyNodes.count where keyPrints[i] == print {
                let node = nodes[keyNodes[i]]
                if node.b == bytes.count,
                   bytes.count == 0 || memcmp(arena + node.a, bytes.baseAddress!, bytes.count) == 0 {
                    return false
                }
            }
        } else {
            if existing == linearKeyLimit {
                var set = Set<ExactKey>(minimumCapacity: existing * 4)
                for i in start..<keyNodes.count { set.insert(ExactKey(keyText(keyNodes[i]))) }
                largeKeySets[depth] = set
            }
            let key = ExactKey(String(decoding: bytes, as: UTF8.self))
            if !largeKeySets[depth, default: []].insert(key).inserted { return false }
        }
        keyNodes.append(nodes.count)
        keyPrints.append(print)
        nodes[open[depth].node].b += 1
        string(bytes)
        return true
    }

    private func keyText(_ node: Int) -> String {
        let n = nodes[node]
        return String(decoding: UnsafeBufferPointer(start: arena + n.a, count: n.b), as: UTF8.self)
    }

    mutating func beginArray() {
        open.append(Open(node: nodes.count, keyStart: keyNodes.count))
        nodes.append(Node(kind: .array, a: 0, b: 0))
    }

    mutating func beginObject() {
        open.append(Open(node: nodes.count, keyStart: keyNodes.count))
        nodes.append(Node(kind: .object, a: 0, b: 0))
    }

    mutating func endArray() {
        nodes[open.removeLast().node].a = nodes.count
    }

    mutating func endObject() {
        let o = open.removeLast()
        nodes[o.node].a = nodes.count
        let n = keyNodes.count - o.keyStart
        keyNodes.removeLast(n)
        keyPrints.removeLast(n)
        if n > linearKeyLimit { largeKeySets[open.count] = nil }
    }

    mutating func finish() -> TapeBuilder { self }

    /// The canonical form of the recorded document.
    func canonicalBytes() -> [UInt8] {
        var writer = CanonicalJSON.ByteWriter(capacity: arenaCount + nodes.count * 4 + 64)
        defer { writer.deallocate() }
        nodes.withUnsafeBufferPointer { nodes in
            _ = Self.emit(0, nodes, UnsafeBufferPointer(start: arena, count: arenaCount), into: &writer)
        }
        return writer.bytes()
    }

    /// Writes node `i` (and its subtree); returns the index after it.
    static func emit(
        _ i: Int, _ nodes: UnsafeBufferPointer<Node>, _ arena: UnsafeBufferPointer<UInt8>,
        into w: inout CanonicalJSON.ByteWriter
    ) -> Int {
        let node = nodes[i]
        switch node.kind {
        case .null, .false, .true:
            CanonicalJSON.write(node.kind == .null ? .null : .bool(node.kind == .true), into: &w)
            return i + 1
        case .number:
            CanonicalJSON.writeNumber(Double(bitPattern: UInt64(truncatingIfNeeded: node.a)), into: &w)
            return i + 1
        case .string:
            CanonicalJSON.writeEscaped(UnsafeBufferPointer(rebasing: arena[node.a..<(node.a + node.b)]), into: &w)
            return i + 1
        case .array:
            w.byte(0x5B)
            var j = i + 1
            while j < node.a {
                if j > i + 1 { w.byte(0x2C) }
                j = emit(j, nodes, arena, into: &w)
            }
            w.byte(0x5D)
            return node.a
        case .object:
            w.byte(0x7B)
            let n = node.b
            if n > 0 {
                withUnsafeTemporaryAllocation(of: CanonicalJSON.SortEntry.self, capacity: n) { entries in
                    // Gather the key nodes, stepping over each value's subtree.
                    var j = i + 1
                    for k in 0..<n {
                        let key = nodes[j]
                        let prefix = CanonicalJSON.sortPrefix(UnsafeBufferPointer(rebasing: arena[key.a..<(key.a + key.b)]))
                        (entries.baseAddress! + k).initialize(to: CanonicalJSON.SortEntry(prefix: prefix, index: j))
                        let value = nodes[j + 1]
                        j = value.kind == .array || value.kind == .object ? value.a : j + 2
                    }
                    if n > 1 {
                        CanonicalJSON.sortMembers(entries) { x, y in
                            let a = nodes[x], b = nodes[y]
                            return CanonicalJSON.utf16Less(UnsafeBufferPointer(rebasing: arena[a.a..<(a.a + a.b)]),
                                                           UnsafeBufferPointer(rebasing: arena[b.a..<(b.a + b.b)]))
                        }
                    }
                    for k in 0..<n {
                        if k > 0 { w.byte(0x2C) }
                        let keyIndex = entries[k].index
                        let key = nodes[keyIndex]
                        CanonicalJSON.writeEscaped(UnsafeBufferPointer(rebasing: arena[key.a..<(key.a + key.b)]), into: &w)
                        w.byte(0x3A)
                        _ = emit(keyIndex + 1, nodes, arena, into: &w)
                    }
                }
            }
            w.byte(0x7D)
            return node.a
        }
    }
}
