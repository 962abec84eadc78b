import CustodyModel

/// Typed, pointer-naming access to an event body's fields: every failure names the field.
///
/// It reads either a parsed tree (what an append parses from a request) or, in an audit, the stored canonical
/// bytes in place (``CanonicalObjectView``); both give the same values and the same violations.
public struct BodyReader: Sendable {
    private let storage: Storage
    /// JSON pointer of the object (`/body`, `/body/outputs/2`).
    public let path: String

    private enum Storage: Sendable {
        case tree(JSONObject)
        case bytes(CanonicalObjectView)
    }

    /// One member's value, from either storage.
    private enum Field {
        case tree(JSONValue)
        case bytes(CanonicalValueView)

        var string: String? {
            switch self {
            case .tree(let v): if case .string(let s) = v { return s } else { return nil }
            case .bytes(let v): return v.string
            }
        }

        var int64: Int64? {
            switch self {
            case .tree(let v): return v.int64Value
            case .bytes(let v): return v.int64
            }
        }

        var items: [Field]? {
            switch self {
            case .tree(let v): if case .array(let a) = v { return a.map(Field.tree) } else { return nil }
            case .bytes(let v): return v.items?.map(Field.bytes)
            }
        }

        func reader(path: String) -> BodyReader? {
            switch self {
            case .tree(let v): if case .object(let o) = v { return BodyReader(o, path: path) } else { return nil }
            case .bytes(let v): return v.object.map { BodyReader($0, path: path) }
            }
        }
    }

    /// A reader of `object` at `path`.
    public init(_ object: JSONObject, path: String = "/body") {
        storage = .tree(object)
        self.path = path
    }

    /// A reader of the object in canonical bytes at `path`.
    public init(_ view: CanonicalObjectView, path: String = "/body") {
        storage = .bytes(view)
        self.path = path
    }

    /// The object read, as a tree (built from the bytes when the reader reads them in place).
    public var object: JSONObject {
        switch storage {
        case .tree(let o): return o
        case .bytes(let v): return v.materialized()
        }
    }

    private func field(_ key: String) -> Field? {
        switch storage {
        case .tree(let o): return o[key].map(Field.tree)
        case .bytes(let v): return v[key].map(Field.bytes)
        }
    }

    /// Whether the object has a member named `key`.
    public func has(_ key: String) -> Bool {
        switch storage {
        case .tree(let o): return o.contains(key)
        case .bytes(let v): return v.contains(key)
        }
    }

    /// The value of the member named `key` as a tree, or nil if there is none.
    public func value(_ key: String) -> JSONValue? {
        switch storage {
        case .tree(let o): return o[key]
        case .bytes(let v): return v[key]?.jsonValue
        }
    }

    /// The first key, in stored order, for which `predicate` holds.
    public func firstKey(where predicate: (String) -> Bool) -> String? {
        switch storage {
        case .tree(let o): return o.firstKey(where: predicate)
        case .bytes(let v): return v.firstKey(where: predicate)
        }
    }

    /// The JSON pointer of the member named `key`.
    func pointer(_ key: String) -> String { JSONPointer.appending(key, to: path) }

    func invalid(_ key: String, _ detail: String) -> RuleViolation {
        RuleViolation("schema", .invalid, detail, pointer: pointer(key))
    }

    /// A required string.
    public func string(_ key: String) throws(RuleViolation) -> String {
        guard let value = field(key) else { throw invalid(key, "missing required field \(key)") }
        guard let s = value.string else { throw invalid(key, "\(key) must be a string") }
        return s
    }

    /// An optional string.
    public func optionalString(_ key: String) throws(RuleViolation) -> String? {
        guard has(key) else { return nil }
        return try string(key)
    }

    /// A required identifier (`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`).
    public func id(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isID(s) else { throw invalid(key, "\(key) \"\(s)\" is not a valid id") }
        return s
    }

    /// A required participant id (`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`, the `signer` pattern: no `/`).
    public func participantID(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isParticipantID(s) else { throw invalid(key, "\(key) \"\(s)\" is not a valid participant id") }
        return s
    }

    /// A required integer within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int64> = Int64(-9_007_199_254_740_991)...9_007_199_254_740_991) throws(RuleViolation) -> Int64 {
        guard let value = field(key) else { throw invalid(key, "missing required field \(key)") }
        guard let n = value.int64 else { throw invalid(key, "\(key) must be an integer") }
        guard range.contains(n) else { throw invalid(key, "\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(n)") }
        return n
    }

    /// A required string of `length` characters (Unicode code points, as JSON Schema counts them).
    public func string(_ key: String, length: ClosedRange<Int>) throws(RuleViolation) -> String {
        let s = try string(key)
        guard length.contains(s.unicodeScalars.count) else {
            throw invalid(key, "\(key) must be \(length.lowerBound) to \(length.upperBound) characters, got \(s.unicodeScalars.count)")
        }
        return s
    }

    /// Required free text with at least one non-space character (the schemas' `minLength: 1, pattern: "\\S"`).
    public func text(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isText(s) else { throw invalid(key, "\(key) must contain a non-space character") }
        return s
    }

    /// A required absolute URI (RFC 3986, the schemas' `format: uri`), such as `https://example.org/report.pdf`.
    public func uri(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isURI(s) else {
            throw invalid(key, "\(key) \"\(s)\" is not an absolute URI (RFC 3986: a scheme, then ASCII only, no spaces; percent-encode the rest)")
        }
        return s
    }

    /// A required participant key id: 32 lowercase hex characters.
    public func keyID(_ key: String) throws(RuleViolation) -> String {
        try hex(key, count: 32, what: "a key id")
    }

    /// A required SHA-256 hash: 64 lowercase hex characters.
    public func sha256(_ key: String) throws(RuleViolation) -> String {
        try hex(key, count: 64, what: "a SHA-256 hash")
    }

    private func hex(_ key: String, count: Int, what: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isHex(s, count: count) else { throw invalid(key, "\(key) must be \(count) lowercase hex characters (\(what))") }
        return s
    }

    /// A required KP certificate number (`^[A-Z]{2}-[A-Za-z0-9/-]{1,60}$`).
    public func certificateNumber(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isCertificateNumber(s) else {
            throw invalid(key, "\(key) \"\(s)\" is not a KP certificate number (a country code, a dash, then 1 to 60 letters, digits, / or -)")
        }
        return s
    }

    /// This reader, once every member is among `allowed`: a schema's `additionalProperties: false` on a nested
    /// object (the top level is closed by the catalogue).
    @discardableResult
    public func closed(to allowed: [String]) throws(RuleViolation) -> BodyReader {
        if let key = firstKey(where: { !allowed.contains($0) }) {
            throw RuleViolation("schema.unknown-field", .invalid, "\(name) has no field \(key)", pointer: pointer(key))
        }
        return self
    }

    /// Which of `alternatives` the object names, when it names exactly one: a schema's `oneOf` over objects told
    /// apart by a required member (an attestation's subject is a parcel or a site).
    public func alternative(_ alternatives: [String]) throws(RuleViolation) -> String {
        var found: String?
        for key in alternatives where has(key) {
            if let first = found {
                throw RuleViolation("schema", .invalid, "\(name) names both \(first) and \(key); it names one of them", pointer: path)
            }
            found = key
        }
        guard let found else {
            throw RuleViolation("schema", .invalid, "\(name) must name one of \(alternatives.joined(separator: ", "))", pointer: path)
        }
        return found
    }

    /// The object's name in messages: its pointer without `/body/` (`evidence`, `outputs/1`).
    private var name: String { path.hasPrefix("/body/") ? String(path.dropFirst(6)) : "body" }

    /// A required ISO 3166-1 alpha-2 code.
    public func country(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isCountry(s) else { throw invalid(key, "\(key) \"\(s)\" is not an ISO 3166-1 alpha-2 code") }
        return s
    }

    /// A required `YYYY-MM-DD` date; returned as given (it sorts as text).
    public func date(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard Identifiers.isDate(s) else { throw invalid(key, "\(key) \"\(s)\" is not a date YYYY-MM-DD") }
        return s
    }

    /// An optional `YYYY-MM-DD` date.
    public func optionalDate(_ key: String) throws(RuleViolation) -> String? {
        guard has(key) else { return nil }
        return try date(key)
    }

    /// A required log index of an entry after the genesis (1 to 2^53−1): what `transfer`, `target` and
    /// `effectiveFrom` name, never index 0.
    public func logIndex(_ key: String) throws(RuleViolation) -> UInt64 {
        UInt64(try integer(key, in: 1...JSONValue.maxSafeInteger))
    }

    /// A required 64-hex commitment (SHA-256 of the JCS form of `{"salt","value"}`).
    public func commitment(_ key: String) throws(RuleViolation) -> String {
        try hex(key, count: 64, what: "a SHA-256 commitment")
    }

    /// An optional commitment.
    public func optionalCommitment(_ key: String) throws(RuleViolation) -> String? {
        guard has(key) else { return nil }
        return try commitment(key)
    }

    /// A required non-empty array of ids, without repeats.
    public func ids(_ key: String, minimum: Int = 1) throws(RuleViolation) -> [String] {
        guard let value = field(key) else { throw invalid(key, "missing required field \(key)") }
        guard let items = value.items, items.count >= minimum else {
            throw invalid(key, "\(key) must be an array of at least \(minimum) ids")
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.string, Identifiers.isID(s) else {
                throw RuleViolation("schema", .invalid, "\(key)[\(i)] is not a valid id", pointer: "\(pointer(key))/\(i)")
            }
            guard !out.contains(s) else {
                throw RuleViolation("schema", .invalid, "\(key) lists \(s) twice", pointer: "\(pointer(key))/\(i)")
            }
            out.append(s)
        }
        return out
    }

    /// A required array of objects, each read with its own pointer.
    public func objects(_ key: String, minimum: Int = 1) throws(RuleViolation) -> [BodyReader] {
        guard let value = field(key) else { throw invalid(key, "missing required field \(key)") }
        guard let items = value.items, items.count >= minimum else {
            throw invalid(key, "\(key) must be an array of at least \(minimum) objects")
        }
        var out: [BodyReader] = []
        for (i, item) in items.enumerated() {
            guard let reader = item.reader(path: "\(pointer(key))/\(i)") else {
                throw RuleViolation("schema", .invalid, "\(key)[\(i)] must be an object", pointer: "\(pointer(key))/\(i)")
            }
            out.append(reader)
        }
        return out
    }

    /// A required object.
    public func object(_ key: String) throws(RuleViolation) -> BodyReader {
        guard let value = field(key) else { throw invalid(key, "missing required field \(key)") }
        guard let reader = value.reader(path: pointer(key)) else { throw invalid(key, "\(key) must be an object") }
        return reader
    }

    /// A required value from a closed vocabulary.
    public func oneOf<T: RawRepresentable>(_ key: String, _ type: T.Type) throws(RuleViolation) -> T where T.RawValue == String, T: CaseIterable {
        let s = try string(key)
        guard let v = T(rawValue: s) else {
            throw invalid(key, "\(key) \"\(s)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }
}

/// Formats of identifiers, countries and dates. Every event runs several of these on the serial path of an
/// append, so they read the string's UTF-8 in place instead of copying it into an array.
public enum Identifiers {
    /// `^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`
    public static func isID(_ s: String) -> Bool { isID(s, slash: true) }

    /// `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`: an id without `/`, as `signer` requires.
    public static func isParticipantID(_ s: String) -> Bool { isID(s, slash: false) }

    private static func isID(_ s: String, slash: Bool) -> Bool {
        var s = s
        return s.withUTF8 { u in
            guard (1...128).contains(u.count), isAlphanumeric(u[0]) else { return false }
            for c in u.dropFirst() where !isAlphanumeric(c) {
                // . _ : - and, unless excluded, /
                guard c == 0x2e || c == 0x5f || c == 0x3a || c == 0x2d || (slash && c == 0x2f) else { return false }
            }
            return true
        }
    }

    @inline(__always) private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c)
    }

    /// `count` lowercase hex characters (key ids, hashes, commitments).
    public static func isHex(_ s: String, count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Text with a character that is not white space, as the schemas' `\S` means it: JSON Schema patterns are
    /// ECMA-262 regular expressions, whose white space is tab, vertical tab, form feed, U+FEFF, the Unicode
    /// space separators (Zs) and the line terminators (LF, CR, U+2028, U+2029). (Not Unicode's White_Space
    /// property, which adds U+0085 and leaves out U+FEFF.)
    public static func isText(_ s: String) -> Bool {
        s.unicodeScalars.contains { !isECMAScriptSpace($0) }
    }

    /// ECMA-262 `WhiteSpace` or `LineTerminator`: what `\s` matches in a schema's pattern.
    static func isECMAScriptSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0d, 0x20, 0xa0, 0xfeff, 0x2028, 0x2029: return true
        case 0...0x7f: return false
        default: return c.properties.generalCategory == .spaceSeparator
        }
    }

    /// A KP certificate number: `^[A-Z]{2}-[A-Za-z0-9/-]{1,60}$` (the issuing country, a dash, the number).
    public static func isCertificateNumber(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { u in
            guard (4...63).contains(u.count), (0x41...0x5a).contains(u[0]), (0x41...0x5a).contains(u[1]), u[2] == 0x2d else { return false }
            return u[3...].allSatisfy { isAlphanumeric($0) || $0 == 0x2f || $0 == 0x2d }
        }
    }

    /// Two upper-case ASCII letters.
    public static func isCountry(_ s: String) -> Bool {
        s.utf8.count == 2 && s.utf8.allSatisfy { (0x41...0x5a).contains($0) }
    }

    /// `YYYY-MM-DD` with a valid day.
    public static func isDate(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { u in
            guard u.count == 10, u[4] == 0x2d, u[7] == 0x2d else { return false }
            func num(_ r: Range<Int>) -> Int? {
                var v = 0
                for i in r { guard (0x30...0x39).contains(u[i]) else { return nil }; v = v * 10 + Int(u[i] - 0x30) }
                return v
            }
            guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), d >= 1 else { return false }
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            let days = m == 2 ? (leap ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31)
            return d <= days
        }
    }
}
