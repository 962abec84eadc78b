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

    /// A required log index.
    public func logIndex(_ key: String) throws(RuleViolation) -> UInt64 {
        UInt64(try integer(key, in: 0...9_007_199_254_740_991))
    }

    /// A required 64-hex commitment (SHA-256 of the JCS form of `{"salt","value"}`).
    public func commitment(_ key: String) throws(RuleViolation) -> String {
        let s = try string(key)
        guard s.utf8.count == 64, s.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw invalid(key, "\(key) must be 64 lowercase hex characters (a SHA-256 commitment)")
        }
        return s
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
