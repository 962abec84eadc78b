import BigInt

/// An exact non-negative rational number, always in lowest terms, for origin shares. Shares are carried
/// through splits unchanged and combined by weight in mixes; each mix multiplies denominators by weights in
/// points, so after a few levels they outgrow any fixed-width integer. Floating point would drift, and the
/// shares of a parcel must sum to exactly one.
public struct Share: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Numerator, in lowest terms with `denominator`.
    public let numerator: BigUInt
    /// Denominator, never zero.
    public let denominator: BigUInt

    /// Zero.
    public static let zero = Share(reduced: 0, 1)
    /// One: the whole parcel.
    public static let one = Share(reduced: 1, 1)

    /// `numerator / denominator`, reduced. The denominator must not be zero.
    public init(_ numerator: BigUInt, _ denominator: BigUInt) {
        precondition(denominator != 0, "a share's denominator is zero")
        let g = numerator.greatestCommonDivisor(with: denominator)
        self.init(reduced: numerator / g, denominator / g)
    }

    /// `numerator / denominator` from machine integers (both non-negative, denominator positive).
    public init(_ numerator: Int, _ denominator: Int) {
        precondition(numerator >= 0 && denominator > 0, "a share is non-negative with a positive denominator")
        self.init(BigUInt(numerator), BigUInt(denominator))
    }

    private init(reduced numerator: BigUInt, _ denominator: BigUInt) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Parses `"n/d"` (or `"n"`), as written by `description`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let n = BigUInt(String(parts[0]), radix: 10) else { return nil }
        let d = parts.count == 2 ? BigUInt(String(parts[1]), radix: 10) : 1
        guard let d, d != 0, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        self.init(n, d)
    }

    /// `"n/d"` in lowest terms (`"1/1"` for one), exact and canonical, so equal shares print equally.
    public var description: String { "\(numerator)/\(denominator)" }

    /// Sum of two shares.
    public static func + (a: Share, b: Share) -> Share {
        Share(a.numerator * b.denominator + b.numerator * a.denominator, a.denominator * b.denominator)
    }

    /// Product of two shares.
    public static func * (a: Share, b: Share) -> Share {
        Share(a.numerator * b.numerator, a.denominator * b.denominator)
    }

    /// Ordering by value.
    public static func < (a: Share, b: Share) -> Bool {
        a.numerator * b.denominator < b.numerator * a.denominator
    }

    /// The share as a fraction of 1 with `digits` decimals, rounded down: for display only.
    public func decimal(digits: Int = 4) -> String {
        var scale = BigUInt(1)
        for _ in 0..<digits { scale *= 10 }
        let scaled = numerator * scale / denominator
        let whole = scaled / scale
        var frac = String(scaled % scale)
        while frac.count < digits { frac = "0" + frac }
        return digits == 0 ? "\(whole)" : "\(whole).\(frac)"
    }

    /// The share of `weight` points, rounded down.
    public func of(_ weight: Int64) -> BigUInt { numerator * BigUInt(weight) / denominator }
}
