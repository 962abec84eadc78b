import Foundation

/// A strict RFC 8259 JSON parser that accepts only what RFC 8785 (JCS) can canonicalize exactly.
///
/// It rejects, with a precise ``JSONParseError``: any syntax extension (comments, trailing commas, single
/// quotes, `NaN`/`Infinity`, leading zeros, `+1`, `.5`, `1.`), a byte-order mark, invalid UTF-8 anywhere,
/// unescaped control characters in strings, `\u` escapes that form lone or mis-ordered surrogates,
/// duplicate keys in one object, nesting deeper than `maxDepth`, and numbers that overflow to infinity or
/// whose value is an integer beyond ±(2^53−1). Rejecting rather than repairing keeps the signed bytes
/// unambiguous: every accepted document means the same thing to every conforming reader.
///
/// The parser works on raw bytes without recursion, so `maxDepth` bounds memory, not stack use.
public struct JSONParser {
    /// The default nesting limit (arrays and objects inside each other).
    public static let defaultMaxDepth = 64

    /// Which numbers the parser accepts. Every policy rejects numbers that overflow to infinity.
    public enum NumberPolicy: Sendable, Equatable {
        /// The ledger's rule (protocol "Encodings"): also reject any number whose double value is an
        /// integer beyond ±(2^53−1), such as `9007199254740992` or `1e20`, because readers that parse it
        /// as an integer would see a different value than the canonical form carries.
        case safeIntegers
        /// Plain RFC 8785: any finite number, canonicalized by its double value (so `1E30` is accepted
        /// and becomes `1e+30`). For conformance tests and tools, not for ledger input.
        case anyFinite

        var maxMagnitude: Double {
            switch self {
            case .safeIntegers: return 9_007_199_254_740_991  // every double above this is an integer
            case .anyFinite: return .greatestFiniteMagnitude
            }
        }
    }

    /// Parses one JSON text (a value with optional surrounding whitespace).
    public static func parse(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, numbers: NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in try parse(buffer, maxDepth: maxDepth, numbers: numbers) }
        }
        return try result.get()
    }

    /// Parses one JSON text held in `data`.
    public static func parse(
        _ data: Data, maxDepth: Int = defaultMaxDepth, numbers: NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> JSONValue {
        try data.withUnsafeBytes { raw in Result { () throws(JSONParseError) in
            try parse(raw, maxDepth: maxDepth, numbers: numbers)
        } }.get()
    }

    /// Parses one JSON text from raw memory (e.g. a network buffer) without copying it first.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth, numbers: NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> JSONValue {
        try buffer.withMemoryRebound(to: UInt8.self) { bytes in Result { () throws(JSONParseError) in
            try parse(bytes, maxDepth: maxDepth, numbers: numbers)
        } }.get()
    }

    /// Parses one JSON text from a typed buffer.
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth,
        numbers: NumberPolicy = .safeIntegers
    ) throws(JSONParseError) -> JSONValue {
        try run(buffer, maxDepth: maxDepth, numbers: numbers, sink: ValueBuilder())
    }

    /// Checks that `bytes` are one JSON text by the RFC 8259 grammar alone, throwing its first syntax error at the
    /// offset ``parse(_:maxDepth:numbers:)`` would report it. What is well-formed but refused for its content
    /// passes: duplicate keys, numbers of any size, lone surrogate escapes, any nesting depth.
    public static func checkSyntax(_ bytes: [UInt8]) throws(JSONParseError) {
        try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in
                guard let base = buffer.baseAddress, buffer.count > 0 else { throw JSONParseError(.emptyInput, at: 0) }
                var core = ParserCore(base: base, end: buffer.count, maxDepth: .max, maxMagnitude: .infinity, sink: SyntaxCheck())
                defer { core.releaseScratch() }
                try core.parseDocument()
            }
        }.get()
    }

    /// Runs the grammar over `buffer`, reporting values to `sink`. Every entry point (value building and
    /// direct canonicalization) goes through here, so they accept and reject exactly the same inputs.
    static func run<Sink: ParseSink>(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int, numbers: NumberPolicy, sink: Sink
    ) throws(JSONParseError) -> Sink.Output {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw JSONParseError(.emptyInput, at: 0)
        }
        var core = ParserCore(base: base, end: buffer.count, maxDepth: maxDepth,
                              maxMagnitude: numbers.maxMagnitude, sink: sink)
        defer { core.releaseScratch() }
        return try core.parseDocument()
    }
}

// MARK: - Sinks

/// Receives a document's values in order from ``ParserCore``. Strings and keys arrive decoded (escapes
/// resolved, UTF-8 validated); their buffers are only valid during the call.
protocol ParseSink {
    associatedtype Output
    mutating func null()
    mutating func bool(_ value: Bool)
    mutating func number(_ value: Double)
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>)
    /// A member key of the innermost open object; returns `false` if that object already has it.
    mutating func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool
    mutating func beginArray()
    mutating func endArray()
    mutating func beginObject()
    mutating func endObject()
    /// The document's single top-level value.
    mutating func finish() -> Output
    /// Whether a `\u` escape of a surrogate that is not half of a pair is let through (as U+FFFD), not refused.
    static var acceptsLoneSurrogates: Bool { get }
}

extension ParseSink {
    static var acceptsLoneSurrogates: Bool { false }
}

/// Takes every value and key and keeps nothing: ``JSONParser/checkSyntax(_:)``.
struct SyntaxCheck: ParseSink {
    mutating func null() {}
    mutating func bool(_ value: Bool) {}
    mutating func number(_ value: Double) {}
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {}
    mutating func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { true }
    mutating func beginArray() {}
    mutating func endArray() {}
    mutating func beginObject() {}
    mutating func endObject() {}
    mutating func finish() {}
    static var acceptsLoneSurrogates: Bool { true }
}

/// Key fingerprint: length in the low byte, then the first 7 bytes. Equal keys have equal fingerprints,
/// so duplicate checks in small objects compare integers and only compare bytes on a match.
@inline(__always)
func keyFingerprint(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var x = UInt64(truncatingIfNeeded: bytes.count) & 0xFF
    for j in 0..<min(bytes.count, 7) { x |= UInt64(bytes[j]) << (8 * (j + 1)) }
    return x
}

/// Objects with more keys than this switch to a hash set for duplicate detection (linear overall).
let linearKeyLimit = 16

/// Builds ``JSONValue``s on flat stacks, moving finished containers' contents off them.
struct ValueBuilder: ParseSink {
    struct Open {
        var valueStart: Int
        var keyStart: Int
    }

    /// Completed elements/member values of all open containers, flattened.
    var values: [JSONValue] = []
    /// Keys of all open objects, flattened; an object's last key may await its value.
    var keys: [String] = []
    var keyPrints: [UInt64] = []
    var open: [Open] = []
    /// Exact-key sets of open objects with many members, by depth.
    var largeKeySets: [Int: Set<ExactKey>] = [:]

    init() {
        values.reserveCapacity(32)
        keys.reserveCapacity(16)
        keyPrints.reserveCapacity(16)
        open.reserveCapacity(8)
    }

    mutating func null() { values.append(.null) }
    mutating func bool(_ value: Bool) { values.append(.bool(value)) }
    mutating func number(_ value: Double) { values.append(.number(value)) }
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {
        values.append(.string(String(decoding: bytes, as: UTF8.self)))
    }

    mutating func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let depth = open.count - 1
        let start = open[depth].keyStart
        let existing = keys.count - start
        let print = keyFingerprint(bytes)
        if existing < linearKeyLimit {
            for i in start..<keys.count where keyPrints[i] == print && bytesEqual(keys[i], bytes) {
                return false
            }
        } else {
            let key = ExactKey(String(decoding: bytes, as: UTF8.self))
            if existing == linearKeyLimit {
                var set = Set<ExactKey>(minimumCapacity: existing * 4)
                for i in start..<keys.count { set.insert(ExactKey(keys[i])) }
                largeKeySets[depth] = set
            }
            if !largeKeySets[depth, default: []].insert(key).inserted { return false }
        }
        keys.append(String(decoding: bytes, as: UTF8.self))
        keyPrints.append(print)
        return true
    }

    mutating func beginArray() { open.append(Open(valueStart: values.count, keyStart: keys.count)) }
    mutating func beginObject() { open.append(Open(valueStart: values.count, keyStart: keys.count)) }

    /// Moves the innermost array's elements off the stack (no retain/release per element).
    mutating func endArray() {
        let start = open.removeLast().valueStart
        let n = values.count - start
        let elements = values.withUnsafeMutableBufferPointer { stack in
            let source = stack.baseAddress! + start
            // (reserve + append rather than `init(unsafeUninitializedCapacity:)`, which is not specialized
            // and costs a runtime metadata lookup per call.)
            var elements: [JSONValue] = []
            elements.reserveCapacity(n)
            for i in 0..<n { elements.append((source + i).move()) }
            source.initialize(repeating: .null, count: n)  // trivially destroyed below
            return elements
        }
        values.removeLast(n)
        values.append(.array(elements))
    }

    /// Moves the innermost object's keys and values off the stacks into its members.
    mutating func endObject() {
        let frame = open.removeLast()
        let n = keys.count - frame.keyStart
        let members = keys.withUnsafeMutableBufferPointer { keyStack in
            values.withUnsafeMutableBufferPointer { valueStack in
                let keySource = keyStack.baseAddress! + frame.keyStart
                let valueSource = valueStack.baseAddress! + frame.valueStart
                var members: [JSONObject.Member] = []
                members.reserveCapacity(n)
                for i in 0..<n {
                    members.append(JSONObject.Member(key: (keySource + i).move(), value: (valueSource + i).move()))
                }
                keySource.initialize(repeating: "", count: n)
                valueSource.initialize(repeating: .null, count: n)
                return members
            }
        }
        keys.removeLast(n)
        keyPrints.removeLast(n)
        values.removeLast(n)
        if n > linearKeyLimit { largeKeySets[open.count] = nil }
        values.append(.object(JSONObject(uncheckedMembers: members)))
    }

    mutating func finish() -> JSONValue { values.removeLast() }
}

extension JSONParser {
    /// Whether `b` is JSON whitespace (RFC 8259: space, tab, line feed, carriage return).
    @inline(__always)
    public static func isWhitespace(_ b: UInt8) -> Bool {
        b == ASCII.space || b == ASCII.lf || b == ASCII.cr || b == ASCII.tab
    }
}

// MARK: - Grammar

private enum ASCII {
    static let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C, colon: UInt8 = 0x3A, minus: UInt8 = 0x2D, plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E, zero: UInt8 = 0x30, nine: UInt8 = 0x39
    static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
    static let space: UInt8 = 0x20, tab: UInt8 = 0x09, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
}

/// Exact powers of ten representable in a Double (10^0 … 10^22), for Clinger's fast path.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// The length of the well-formed UTF-8 sequence starting at `p[i]` (a non-ASCII byte), or 0 if the
/// bytes there are not well-formed (Unicode Table 3-7: no overlongs, surrogates, or values past U+10FFFF).
@inline(__always)
func wellFormedUTF8Length(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
    let b0 = p[i]
    if b0 < 0xC2 { return 0 }  // continuation byte, or overlong lead C0/C1
    if b0 < 0xE0 {
        guard i + 1 < end, p[i + 1] & 0xC0 == 0x80 else { return 0 }
        return 2
    }
    if b0 < 0xF0 {
        guard i + 2 < end else { return 0 }
        let b1 = p[i + 1]
        let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
        let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
        guard b1 >= low, b1 <= high, p[i + 2] & 0xC0 == 0x80 else { return 0 }
        return 3
    }
    if b0 < 0xF5 {
        guard i + 3 < end else { return 0 }
        let b1 = p[i + 1]
        let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
        let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
        guard b1 >= low, b1 <= high, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else { return 0 }
        return 4
    }
    return 0
}

/// The RFC 8259 grammar with the ledger's strictness rules, driving a ``ParseSink``.
struct ParserCore<Sink: ParseSink> {
    let base: UnsafePointer<UInt8>
    let end: Int
    let maxDepth: Int
    /// Largest accepted number magnitude (see ``JSONParser/NumberPolicy``).
    let maxMagnitude: Double
    var sink: Sink
    var pos = 0
    /// Open containers, innermost last: `true` for an object.
    var frames: [Bool] = []
    /// Decoding buffer for strings with escapes (allocated on first use, freed by ``releaseScratch()``).
    var scratch: UnsafeMutablePointer<UInt8>? = nil
    var scratchCapacity = 0

    init(base: UnsafePointer<UInt8>, end: Int, maxDepth: Int, maxMagnitude: Double, sink: Sink) {
        self.base = base
        self.end = end
        self.maxDepth = maxDepth
        self.maxMagnitude = maxMagnitude
        self.sink = sink
        frames.reserveCapacity(8)
    }

    func releaseScratch() { scratch?.deallocate() }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = base[pos]
            guard JSONParser.isWhitespace(b) else { return }
            pos += 1
        }
    }

    /// The error for a byte that is not allowed at `i` (reporting invalid UTF-8 as such).
    func unexpected(at i: Int) -> JSONParseError {
        let b = base[i]
        if b >= 0x80, wellFormedUTF8Length(base, i, end) == 0 { return JSONParseError(.invalidUTF8, at: i) }
        return JSONParseError(.unexpectedCharacter(b), at: i)
    }

    mutating func parseDocument() throws(JSONParseError) -> Sink.Output {
        if end >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF {
            throw JSONParseError(.byteOrderMark, at: 0)
        }
        skipWhitespace()
        if pos == end { throw JSONParseError(.emptyInput, at: pos) }

        outer: while true {
            // Expecting a value.
            skipWhitespace()
            guard pos < end else { throw JSONParseError(.unexpectedEnd, at: pos) }
            switch base[pos] {
            case ASCII.openBrace:
                guard frames.count < maxDepth else { throw JSONParseError(.tooDeep, at: pos) }
                pos += 1
                skipWhitespace()
                sink.beginObject()
                if pos < end, base[pos] == ASCII.closeBrace {
                    pos += 1
                    sink.endObject()
                } else {
                    frames.append(true)
                    try parseMemberKey()
                    continue outer
                }
            case ASCII.openBracket:
                guard frames.count < maxDepth else { throw JSONParseError(.tooDeep, at: pos) }
                pos += 1
                skipWhitespace()
                sink.beginArray()
                if pos < end, base[pos] == ASCII.closeBracket {
                    pos += 1
                    sink.endArray()
                } else {
                    frames.append(false)
                    continue outer
                }
            case ASCII.quote:
                sink.string(try parseString())
            case ASCII.minus, ASCII.zero...ASCII.nine:
                sink.number(try parseNumber())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                sink.bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                sink.bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                sink.null()
            case ASCII.plus, ASCII.dot:  // `+1`, `.5`: number-like, so say so
                throw JSONParseError(.invalidNumber, at: pos)
            default:
                throw unexpected(at: pos)
            }

            // A value is complete: continue its container, or close containers as they end.
            while true {
                guard let isObject = frames.last else {
                    skipWhitespace()
                    if pos < end {
                        if base[pos] >= 0x80, wellFormedUTF8Length(base, pos, end) == 0 {
                            throw JSONParseError(.invalidUTF8, at: pos)
                        }
                        throw JSONParseError(.trailingData, at: pos)
                    }
                    return sink.finish()
                }
                skipWhitespace()
                guard pos < end else { throw JSONParseError(.unexpectedEnd, at: pos) }
                let b = base[pos]
                if b == ASCII.comma {
                    let commaAt = pos
                    pos += 1
                    skipWhitespace()
                    if pos < end, base[pos] == (isObject ? ASCII.closeBrace : ASCII.closeBracket) {
                        throw JSONParseError(.trailingComma, at: commaAt)
                    }
                    if isObject { try parseMemberKey() }
                    continue outer
                }
                if isObject, b == ASCII.closeBrace {
                    pos += 1
                    frames.removeLast()
                    sink.endObject()
                } else if !isObject, b == ASCII.closeBracket {
                    pos += 1
                    frames.removeLast()
                    sink.endArray()
                } else {
                    throw unexpected(at: pos)
                }
            }
        }
    }

    /// Parses `"key"` and the following `:` for the innermost object, rejecting duplicates.
    mutating func parseMemberKey() throws(JSONParseError) {
        skipWhitespace()
        guard pos < end else { throw JSONParseError(.unexpectedEnd, at: pos) }
        guard base[pos] == ASCII.quote else { throw unexpected(at: pos) }
        let keyAt = pos
        let key = try parseString()
        guard sink.key(key) else {
            throw JSONParseError(.duplicateKey(String(decoding: key, as: UTF8.self)), at: keyAt)
        }
        skipWhitespace()
        guard pos < end else { throw JSONParseError(.unexpectedEnd, at: pos) }
        guard base[pos] == ASCII.colon else { throw unexpected(at: pos) }
        pos += 1
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let p = literal.utf8Start
        for i in 0..<literal.utf8CodeUnitCount {
            guard pos + i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            guard base[pos + i] == p[i] else { throw unexpected(at: pos + i) }
        }
        pos += literal.utf8CodeUnitCount
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote at `pos`; leaves `pos` after the closing quote.
    /// Returns the decoded UTF-8, valid until the next call (it points into the input or the scratch).
    mutating func parseString() throws(JSONParseError) -> UnsafeBufferPointer<UInt8> {
        let start = pos + 1
        var i = start
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while i < end {
            // Jump 8 bytes at a time to the next byte that needs a look: quote, backslash, control or
            // non-ASCII (the lowest SWAR flag is exact; see `CanonicalJSON.escapeFlags`).
            if i + 8 <= end {
                let chunk = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                let flags = CanonicalJSON.escapeFlags(chunk) | chunk & 0x8080_8080_8080_8080
                if flags == 0 {
                    i += 8
                    continue
                }
                i += flags.trailingZeroBitCount >> 3
            }
            let b = base[i]
            if b == ASCII.quote {
                pos = i + 1
                return UnsafeBufferPointer(start: base + start, count: i - start)
            }
            if b == ASCII.backslash { break }
            if b < 0x20 { throw JSONParseError(.controlCharacterInString, at: i) }
            if b < 0x80 {
                i += 1
            } else {
                let n = wellFormedUTF8Length(base, i, end)
                guard n > 0 else { throw JSONParseError(.invalidUTF8, at: i) }
                i += n
            }
        }
        guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
        return try parseEscapedString(contentStart: start, firstEscape: i)
    }

    /// Makes room for `extra` more bytes after `used` in the scratch buffer.
    @inline(__always)
    mutating func reserveScratch(_ used: Int, _ extra: Int) -> UnsafeMutablePointer<UInt8> {
        if let scratch, used + extra <= scratchCapacity { return scratch }
        return growScratch(used, used + extra)
    }

    @inline(never)
    mutating func growScratch(_ used: Int, _ needed: Int) -> UnsafeMutablePointer<UInt8> {
        let capacity = max(needed, scratchCapacity * 2, 256)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        if let scratch {
            grown.update(from: scratch, count: used)
            scratch.deallocate()
        }
        scratch = grown
        scratchCapacity = capacity
        return grown
    }

    mutating func parseEscapedString(contentStart: Int, firstEscape: Int) throws(JSONParseError)
        -> UnsafeBufferPointer<UInt8>
    {
        // Decoding never lengthens the text (each escape is at least as long as its UTF-8), so the
        // remaining input bounds the decoded size.
        let out = reserveScratch(0, end - contentStart)
        var n = firstEscape - contentStart
        out.update(from: base + contentStart, count: n)
        var i = firstEscape
        while true {
            guard i < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            let b = base[i]
            if b == ASCII.quote {
                pos = i + 1
                return UnsafeBufferPointer(start: out, count: n)
            }
            if b == ASCII.backslash {
                guard i + 1 < end else { throw JSONParseError(.unexpectedEnd, at: end) }
                let decoded: UInt8
                switch base[i + 1] {
                case ASCII.quote, ASCII.backslash, ASCII.slash: decoded = base[i + 1]
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    let unit = try hex4(at: i + 2, escapeAt: i)
                    if unit >= 0xD800, unit <= 0xDFFF {
                        if let scalar = try surrogatePair(unit, at: i) {
                            n += Self.encodeUTF8(scalar, into: out + n)
                            i += 12
                            continue
                        }
                        guard Sink.acceptsLoneSurrogates else { throw JSONParseError(.loneSurrogate, at: i) }
                        n += Self.encodeUTF8(0xFFFD, into: out + n)
                        i += 6
                        continue
                    }
                    n += Self.encodeUTF8(unit, into: out + n)
                    i += 6
                    continue
                default:
                    throw JSONParseError(.invalidEscape, at: i)
                }
                out[n] = decoded
                n += 1
                i += 2
            } else if b < 0x20 {
                throw JSONParseError(.controlCharacterInString, at: i)
            } else if b < 0x80 {
                // Copy the run of plain ASCII up to the next quote, backslash, control or non-ASCII byte.
                let runStart = i
                i += 1
                while i < end {
                    let c = base[i]
                    guard c >= 0x20, c < 0x80, c != ASCII.quote, c != ASCII.backslash else { break }
                    i += 1
                }
                (out + n).update(from: base + runStart, count: i - runStart)
                n += i - runStart
            } else {
                let length = wellFormedUTF8Length(base, i, end)
                guard length > 0 else { throw JSONParseError(.invalidUTF8, at: i) }
                (out + n).update(from: base + i, count: length)
                n += length
                i += length
            }
        }
    }

    /// The scalar of the surrogate pair whose first half, `unit`, is the `\u` escape at `i`; nil when `unit` is not a
    /// high surrogate followed at once by an escaped low one.
    func surrogatePair(_ unit: UInt32, at i: Int) throws(JSONParseError) -> UInt32? {
        guard unit <= 0xDBFF else { return nil }
        guard i + 6 < end else { throw JSONParseError(.unexpectedEnd, at: end) }
        guard base[i + 6] == ASCII.backslash else { return nil }
        guard i + 7 < end else { throw JSONParseError(.unexpectedEnd, at: end) }
        guard base[i + 7] == UInt8(ascii: "u") else { return nil }
        let low = try hex4(at: i + 8, escapeAt: i + 6)
        guard low >= 0xDC00, low <= 0xDFFF else { return nil }
        return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
    }

    /// Four hex digits at `j` (the `XXXX` of `\uXXXX` whose backslash is at `escapeAt`).
    func hex4(at j: Int, escapeAt: Int) throws(JSONParseError) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            guard j + k < end else { throw JSONParseError(.unexpectedEnd, at: end) }
            let c = base[j + k]
            let d: UInt8
            switch c {
            case ASCII.zero...ASCII.nine: d = c - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidEscape, at: escapeAt)
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Writes the UTF-8 of a scalar (not a surrogate) at `p`; returns its length.
    @inline(__always)
    static func encodeUTF8(_ scalar: UInt32, into p: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            p[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            p[0] = UInt8(0xC0 | scalar >> 6)
            p[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            p[0] = UInt8(0xE0 | scalar >> 12)
            p[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            p[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            p[0] = UInt8(0xF0 | scalar >> 18)
            p[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            p[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            p[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }

    // MARK: Numbers

    /// Parses an RFC 8259 number at `pos` and checks that JCS can represent it exactly.
    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = pos
        var i = pos
        let negative = base[i] == ASCII.minus
        if negative { i += 1 }
        guard i < end else { throw JSONParseError(.invalidNumber, at: start) }

        var mantissa: UInt64 = 0  // significant digits, at most 19 of them
        var significant = 0
        var truncated = false  // more than 19 significant digits: leave it to strtod
        var fractionDigits = 0

        @inline(__always) func accumulate(_ d: UInt64) {
            if mantissa == 0 && d == 0 { return }  // leading zero
            if significant < 19 {
                mantissa = mantissa &* 10 &+ d
                significant += 1
            } else {
                truncated = true
            }
        }

        let first = base[i]
        if first == ASCII.zero {
            i += 1
            if i < end, base[i] >= ASCII.zero, base[i] <= ASCII.nine {
                throw JSONParseError(.invalidNumber, at: start)  // leading zero
            }
        } else if first > ASCII.zero, first <= ASCII.nine {
            while i < end, base[i] >= ASCII.zero, base[i] <= ASCII.nine {
                accumulate(UInt64(base[i] - ASCII.zero))
                i += 1
            }
        } else {
            throw JSONParseError(.invalidNumber, at: start)
        }

        if i < end, base[i] == ASCII.dot {
            i += 1
            let fractionStart = i
            while i < end, base[i] >= ASCII.zero, base[i] <= ASCII.nine {
                accumulate(UInt64(base[i] - ASCII.zero))
                fractionDigits += 1
                i += 1
            }
            if i == fractionStart { throw JSONParseError(.invalidNumber, at: start) }
        }

        var exponent = 0
        if i < end, base[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var exponentNegative = false
            if i < end, base[i] == ASCII.minus || base[i] == ASCII.plus {
                exponentNegative = base[i] == ASCII.minus
                i += 1
            }
            let exponentStart = i
            while i < end, base[i] >= ASCII.zero, base[i] <= ASCII.nine {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(base[i] - ASCII.zero) }
                i += 1
            }
            if i == exponentStart { throw JSONParseError(.invalidNumber, at: start) }
            if exponentNegative { exponent = -exponent }
        }
        pos = i

        var value: Double
        let power = exponent - fractionDigits
        if !truncated, mantissa == 0 {
            value = 0
        } else if !truncated, mantissa <= 1 << 53, power >= -22, power <= 22 {
            // Clinger's fast path: both operands exact, so one IEEE operation rounds correctly.
            value = Double(mantissa)
            if power > 0 {
                value *= exactPowersOfTen[power]
            } else if power < 0 {
                value /= exactPowersOfTen[-power]
            }
        } else {
            value = Self.slowDouble(UnsafeBufferPointer(start: base + start + (negative ? 1 : 0),
                                                         count: i - start - (negative ? 1 : 0)))
        }
        if negative { value = -value }

        // JCS represents a number by its double; reject numbers whose double is not the number a
        // reader would expect: infinities, and integers too large to be exact in IEEE 754.
        if !(value.magnitude <= maxMagnitude) {
            let length = i - start
            var literal = String(decoding: UnsafeBufferPointer(start: base + start, count: min(length, 40)),
                                 as: UTF8.self)
            if length > 40 { literal += "…" }
            throw JSONParseError(.numberOutOfRange(literal), at: start)
        }
        return value
    }

    /// Correctly rounded conversion of a validated, unsigned JSON number literal. `Double(String)` uses
    /// the C locale's strtod (independent of the process locale) and yields ±inf on overflow.
    static func slowDouble(_ literal: UnsafeBufferPointer<UInt8>) -> Double {
        // The literal matched the JSON number grammar, which this initializer accepts in full.
        Double(String(decoding: literal, as: UTF8.self)) ?? .nan
    }
}
