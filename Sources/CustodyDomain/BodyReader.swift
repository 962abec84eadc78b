import CustodyModel

/// Typed, pointer-naming access to an event body's fields: every failure names the field.
public struct BodyReader: Sendable {
    /// The object read.
    public let object: JSONObject
    /// JSON pointer of the object (`/body`, `/body/outputs/2`).
    public let path: String

    /// A reader of `object` at `path`.
    public init(_ object: JSONObject, path: String = "/body") {
        self.object = object
        self.path = path
    }

    func pointer(_ key: String) -> String { "\(path)/\(key)" }

    func invalid(_ key: String, _ detail: String) -> RuleViolation {
        RuleViolation("schema", .invalid, detail, pointer: pointer(key))
    }

    /// A required string.
    public func string(_ key: String) throws(RuleViolation) -> String {
        guard let value = object[key] else { throw invalid(key, "missing required field \(key)") }
        guard case .string(let s) = value else { throw invalid(key, "\(key) must be a string") }
        return s
    }

    /// An optional string.
    public func optionalString(_ key: String) throws(RuleViolation) -> String? {
        guard object[key] != nil else { return nil }
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
        guard let value = object[key] else { throw invalid(key, "missing required field \(key)") }
        guard let n = value.int64Value else { throw invalid(key, "\(key) must be an integer") }
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
        guard object[key] != nil else { return nil }
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
        guard object[key] != nil else { return nil }
        return try commitment(key)
    }

    /// A required non-empty array of ids, without repeats.
    public func ids(_ key: String, minimum: Int = 1) throws(RuleViolation) -> [String] {
        guard let value = object[key] else { throw invalid(key, "missing required field \(key)") }
        guard case .array(let items) = value, items.count >= minimum else {
            throw invalid(key, "\(key) must be an array of at least \(minimum) ids")
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, Identifiers.isID(s) else {
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
        guard let value = object[key] else { throw invalid(key, "missing required field \(key)") }
        guard case .array(let items) = value, items.count >= minimum else {
            throw invalid(key, "\(key) must be an array of at least \(minimum) objects")
        }
        var out: [BodyReader] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else {
                throw RuleViolation("schema", .invalid, "\(key)[\(i)] must be an object", pointer: "\(pointer(key))/\(i)")
            }
            out.append(BodyReader(o, path: "\(pointer(key))/\(i)"))
        }
        return out
    }

    /// A required object.
    public func object(_ key: String) throws(RuleViolation) -> BodyReader {
        guard let value = object[key] else { throw invalid(key, "missing required field \(key)") }
        guard case .object(let o) = value else { throw invalid(key, "\(key) must be an object") }
        return BodyReader(o, path: pointer(key))
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

/// Formats of identifiers, countries and dates.
public enum Identifiers {
    /// `^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`
    public static func isID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...128).contains(u.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) }
        return alnum(u[0]) && u.dropFirst().allSatisfy { alnum($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x3a || $0 == 0x2f || $0 == 0x2d }
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`: an id without `/`, as `signer` requires.
    public static func isParticipantID(_ s: String) -> Bool { isID(s) && !s.utf8.contains(0x2f) }

    /// Two upper-case ASCII letters.
    public static func isCountry(_ s: String) -> Bool {
        s.utf8.count == 2 && s.utf8.allSatisfy { (0x41...0x5a).contains($0) }
    }

    /// `YYYY-MM-DD` with a valid day.
    public static func isDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == 0x2d, u[7] == 0x2d else { return false }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard (0x30...0x39).contains(u[i]) else { return nil }; v = v * 10 + Int(u[i] - 0x30) }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), d >= 1 else { return false }
        let days = [31, (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }
}
