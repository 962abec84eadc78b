import CustodyCrypto
import CustodyDomain

/// The fixed shape of the simulated trade: producing countries weighted by the Kimberley Process statistics,
/// the trading hubs, where stones are cut and where they are sold.
enum World {
    /// A producing country: its 2023 KP production (Mct), the typical rough stone (points), and its sites.
    struct Producer {
        let country: String
        let productionMct: Double
        /// Average rough stone in points: small in the DRC's artisanal output, large in Namibia's marine gravels.
        let stonePoints: Int64
        /// Miners registered for it.
        let miners: Int
        /// Regular sites: (region, kind, latitude, longitude in micro-degrees).
        let sites: [(region: String, kind: SiteKind, latE6: Int64, lonE6: Int64)]
        /// Average US$ per carat of its rough (KP 2023 where the summary gives it, else the world average).
        let dollarsPerCarat: Int64
    }

    /// KP 2023 rough production by volume of the eight largest producers (111.5 Mct worldwide).
    static let producers: [Producer] = [
        Producer(country: "RU", productionMct: 37.3, stonePoints: 40, miners: 3, sites: [
            ("Sakha (Yakutia)", .industrial, 62_530_000, 113_990_000), ("Sakha (Yakutia)", .industrial, 66_430_000, 112_320_000),
            ("Sakha (Yakutia)", .industrial, 65_980_000, 111_500_000), ("Arkhangelsk", .industrial, 65_180_000, 41_820_000),
        ], dollarsPerCarat: 97),
        Producer(country: "BW", productionMct: 25.1, stonePoints: 60, miners: 2, sites: [
            ("Southern District", .industrial, -24_601_000, 24_728_000), ("Central District", .industrial, -21_311_000, 25_373_000),
            ("Central District", .industrial, -21_400_000, 25_500_000),
        ], dollarsPerCarat: 114),
        Producer(country: "CA", productionMct: 16.0, stonePoints: 50, miners: 2, sites: [
            ("Northwest Territories", .industrial, 64_490_000, -110_270_000), ("Northwest Territories", .industrial, 64_720_000, -110_610_000),
            ("Northwest Territories", .industrial, 63_410_000, -109_200_000),
        ], dollarsPerCarat: 114),
        Producer(country: "AO", productionMct: 9.8, stonePoints: 120, miners: 2, sites: [
            ("Lunda Sul", .industrial, -9_640_000, 20_390_000), ("Lunda Norte", .alluvial, -8_400_000, 20_700_000),
        ], dollarsPerCarat: 114),
        Producer(country: "CD", productionMct: 8.3, stonePoints: 15, miners: 2, sites: [
            ("Kasai-Oriental", .industrial, -6_150_000, 23_600_000), ("Kasai", .artisanal, -5_900_000, 21_400_000),
            ("Kasai-Oriental", .artisanal, -6_300_000, 23_900_000),
        ], dollarsPerCarat: 8),
        Producer(country: "ZA", productionMct: 5.9, stonePoints: 80, miners: 1, sites: [
            ("Limpopo", .industrial, -22_180_000, 29_390_000), ("Northern Cape", .industrial, -28_740_000, 24_770_000),
        ], dollarsPerCarat: 114),
        Producer(country: "ZW", productionMct: 4.9, stonePoints: 20, miners: 1, sites: [
            ("Manicaland", .alluvial, -19_950_000, 32_450_000),
        ], dollarsPerCarat: 114),
        Producer(country: "NA", productionMct: 2.4, stonePoints: 150, miners: 1, sites: [
            ("Karas", .alluvial, -28_300_000, 16_500_000),
        ], dollarsPerCarat: 517),
    ]

    /// Trading hubs where rough is imported, split, mixed and re-exported, with the share of mine exports
    /// each receives: Antwerp, Dubai, Mumbai.
    static let hubs: [(country: String, city: String, traders: Int, share: Double)] = [
        ("BE", "Antwerp", 3, 0.35), ("AE", "Dubai", 3, 0.40), ("IN", "Mumbai", 2, 0.25),
    ]

    /// Where rough is cut, by share of lots: India cuts most stones.
    static let cutting: [(country: String, manufacturers: Int, share: Double)] = [
        ("IN", 4, 0.86), ("BE", 1, 0.06), ("BW", 1, 0.08),
    ]

    /// Grading laboratories.
    static let labs: [String] = ["IN", "BE", "US"]

    /// Retail markets for polished stones, by share.
    static let retail: [(country: String, share: Double)] = [
        ("US", 0.50), ("CN", 0.15), ("IN", 0.15), ("AE", 0.10), ("JP", 0.10),
    ]

    /// Countries whose exports reach the log only as `kp.import.external` (their exporters do not use it).
    static let externalExporters: [String] = ["SL", "GN", "GH", "LR"]

    static let colours = ["D", "E", "F", "G", "H", "I", "J", "K"]
    static let clarities = ["IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2", "I1"]
    static let cuts = ["Excellent", "Very Good", "Good"]
}

/// A deterministic generator (SplitMix64): the same seed gives the same workload on every machine.
struct SimulationRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed ^ 0x5DEE_CE66_D1CE_4E5B }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<1`.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An index drawn with probability proportional to `weights`.
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return weights.count - 1
    }

    /// A random element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// 16 bytes, for commitment salts.
    mutating func bytes16() -> [UInt8] {
        let a = next(), b = next()
        return (0..<8).map { UInt8(truncatingIfNeeded: a >> ($0 * 8)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> ($0 * 8)) }
    }
}

/// Splits `total` into `parts` positive integers with some spread (each at least 1).
func apportion(_ total: Int64, into parts: Int, _ rng: inout SimulationRandom) -> [Int64] {
    precondition(parts >= 1 && total >= Int64(parts))
    let weights = (0..<parts).map { _ in 0.6 + rng.unit() }
    let sum = weights.reduce(0, +)
    var out = weights.map { max(1, Int64(Double(total - Int64(parts)) * $0 / sum) + 1) }
    var diff = total - out.reduce(0, +)
    var i = 0
    while diff != 0 {
        let j = i % parts
        if diff > 0 {
            out[j] += 1
            diff -= 1
        } else if out[j] > 1 {
            out[j] -= 1
            diff += 1
        }
        i += 1
    }
    return out
}
