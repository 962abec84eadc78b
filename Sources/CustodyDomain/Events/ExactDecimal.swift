/// Exact conversions of decimal text to the integers the log stores: carats to points, degrees to
/// micro-degrees, US dollars to cents. Never through floating point, so `1520.50` ct is exactly 152050 points.
public enum ExactDecimal {
    /// Why a decimal could not be converted; the message names the rule, e.g.
    /// `at most 2 decimals (1 ct = 100 points)`.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong with the text.
        public let message: String
        /// The message.
        public var description: String { message }
    }

    /// Points (1 ct = 100 points) for a weight in carats: `1520.50` → 152050, `3` → 300.
    public static func points(carats text: String) throws(ParseError) -> Int64 {
        try parse(text, decimals: 2, signed: false, hint: "1 ct = 100 points", example: "1520.50")
    }

    /// Micro-degrees for a latitude or longitude in decimal degrees: `-24.601` → -24601000.
    public static func microDegrees(_ text: String) throws(ParseError) -> Int64 {
        try parse(text, decimals: 6, signed: true, hint: "coordinates are kept in micro-degrees", example: "-24.601")
    }

    /// US cents for an amount in US dollars: `6900.00` → 690000.
    public static func cents(dollars text: String) throws(ParseError) -> Int64 {
        try parse(text, decimals: 2, signed: false, hint: "amounts are kept in US cents", example: "6900.00")
    }

    /// Carats for points, with exactly two decimals: 152050 → `1520.50`.
    public static func carats(points: Int64) -> String {
        let sign = points < 0 ? "-" : ""
        let magnitude = points.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// `[-]digits[.digits]` scaled by 10^`decimals`, within ±(2^53−1).
    static func parse(_ text: String, decimals: Int, signed: Bool, hint: String, example: String) throws(ParseError) -> Int64 {
        var u = Array(text.utf8)[...]
        var negative = false
        if let first = u.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            guard signed || first == UInt8(ascii: "+") else { throw ParseError(message: "must not be negative") }
            negative = first == UInt8(ascii: "-")
            u = u.dropFirst()
        }
        let parts = u.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : []
        func digits(_ s: ArraySlice<UInt8>) -> Bool { s.allSatisfy { (0x30...0x39).contains($0) } }
        guard !whole.isEmpty, digits(whole), digits(fraction), parts.count == 1 || !fraction.isEmpty else {
            throw ParseError(message: "not a decimal number like \(example)")
        }
        guard fraction.count <= decimals else {
            throw ParseError(message: "at most \(decimals) decimals (\(hint))")
        }
        var value: Int64 = 0
        for c in Array(whole) + Array(fraction) + Array(repeating: UInt8(ascii: "0"), count: decimals - fraction.count) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2, next <= 9_007_199_254_740_991 else { throw ParseError(message: "too large") }
            value = next
        }
        return negative ? -value : value
    }
}
