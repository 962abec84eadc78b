import CustodyCrypto
import CustodyModel

/// The shape checks of the event schemas, as the builders apply them. `field` is the path of the field in the
/// body (`outputs/1/carats`); errors carry it as a JSON pointer under `/body`.
enum Check {
    static func fail(_ field: String, _ message: String) -> EventBuilderError {
        EventBuilderError("/body/\(field)", message)
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$` (parcel, site, stone, report and policy ids).
    static func id(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isID(s) else {
            throw fail(field, "\(field) \"\(s)\" is not a valid id (1 to 128 letters, digits and . _ : / -, starting with a letter or digit)")
        }
        return .string(s)
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$` (participant ids: no `/`).
    static func participantID(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isParticipantID(s) else {
            throw fail(field, "\(field) \"\(s)\" is not a valid participant id (1 to 128 letters, digits and . _ : -, starting with a letter or digit)")
        }
        return .string(s)
    }

    /// A non-empty array of ids without repeats.
    static func ids(_ list: [String], _ field: String, minimum: Int = 1) throws(EventBuilderError) -> JSONValue {
        guard list.count >= minimum else {
            throw fail(field, "\(field) needs at least \(minimum) id\(minimum == 1 ? "" : "s"), got \(list.count)")
        }
        var seen: Set<String> = []
        var out: [JSONValue] = []
        for (i, s) in list.enumerated() {
            out.append(try id(s, "\(field)/\(i)"))
            guard seen.insert(s).inserted else { throw fail("\(field)/\(i)", "\(field) lists \(s) twice") }
        }
        return .array(out)
    }

    /// ISO 3166-1 alpha-2, upper case.
    static func country(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isCountry(s) else {
            throw fail(field, "\(field) \"\(s)\" is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. BW)")
        }
        return .string(s)
    }

    /// `YYYY-MM-DD`, a real day.
    static func date(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isDate(s) else { throw fail(field, "\(field) \"\(s)\" is not a date YYYY-MM-DD") }
        return .string(s)
    }

    /// Text with at least one non-space character.
    static func text(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isText(s) else {
            throw fail(field, "\(field) must not be empty")
        }
        return .string(s)
    }

    /// An integer in `minimum...2^53−1` (weights in points, stone counts, money in cents, versions).
    static func count(_ n: Int64, _ field: String, minimum: Int64 = 1, unit: String = "") throws(EventBuilderError) -> JSONValue {
        guard n >= minimum, n <= JSONValue.maxSafeInteger else {
            throw fail(field, "\(field) must be between \(minimum) and \(JSONValue.maxSafeInteger)\(unit), got \(n)")
        }
        return .integer(n)
    }

    /// An amount of money in US cents (0 allowed: a gift still has a price), named `name` in messages.
    static func cents(_ n: Int64, _ field: String, _ name: String) throws(EventBuilderError) -> JSONValue {
        guard n >= 0, n <= JSONValue.maxSafeInteger else {
            throw fail(field, "the \(name) must be between 0 and \(JSONValue.maxSafeInteger) US cents, got \(n)")
        }
        return .integer(n)
    }

    /// A weight in points (1 ct = 100 points), at least 1.
    static func points(_ n: Int64, _ field: String) throws(EventBuilderError) -> JSONValue {
        try count(n, field, unit: " points (1 ct = 100 points)")
    }

    /// A log index of an earlier entry (never 0: that is the genesis entry).
    static func logIndex(_ n: UInt64, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard n >= 1, n <= UInt64(JSONValue.maxSafeInteger) else {
            throw fail(field, "\(field) must be a log index from 1 to \(JSONValue.maxSafeInteger), got \(n)")
        }
        return .integer(Int64(n))
    }

    /// An integer in `range` (coordinates).
    static func integer(_ n: Int64, _ field: String, in range: ClosedRange<Int64>, unit: String) throws(EventBuilderError) -> JSONValue {
        guard range.contains(n) else {
            throw fail(field, "\(field) must be between \(range.lowerBound) and \(range.upperBound) \(unit), got \(n)")
        }
        return .integer(n)
    }

    /// `count` lowercase hex characters.
    static func hex(_ s: String, _ field: String, count: Int, what: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isHex(s, count: count) else {
            throw fail(field, "\(field) \"\(s)\" is not \(what) (\(count) lowercase hex characters)")
        }
        return .string(s)
    }

    /// A KP certificate number: `^[A-Z]{2}-[A-Za-z0-9/-]{1,60}$`.
    static func certificate(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isCertificateNumber(s) else {
            throw fail(field, "\(field) \"\(s)\" is not a KP certificate number (the issuing country's ISO code, a dash, then 1 to 60 letters, digits, / or -, e.g. BW-2026-000123)")
        }
        return .string(s)
    }

    /// An absolute URI (RFC 3986): a scheme, then ASCII only, no spaces.
    static func uri(_ s: String, _ field: String) throws(EventBuilderError) -> JSONValue {
        guard Identifiers.isURI(s) else {
            throw fail(field, "\(field) \"\(s)\" is not an absolute URI (a scheme, then ASCII only, no spaces; percent-encode the rest), e.g. https://example.org/report.pdf")
        }
        return .string(s)
    }
}
