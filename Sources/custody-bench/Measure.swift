import Dispatch
import Foundation

/// Seconds of a `Duration`, for rates.
extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

/// Wall-clock seconds taken by `body`. `ContinuousClock` is monotonic, so a clock step cannot skew a figure.
func timed<T>(_ body: () throws -> T) rethrows -> (value: T, seconds: Double) {
    let start = ContinuousClock.now
    let value = try body()
    return (value, (ContinuousClock.now - start).seconds)
}

/// Async variant of `timed`.
func timedAsync<T>(_ body: () async throws -> T) async rethrows -> (value: T, seconds: Double) {
    let start = ContinuousClock.now
    let value = try await body()
    return (value, (ContinuousClock.now - start).seconds)
}

/// Nanoseconds of the monotonic clock (CLOCK_MONOTONIC), cheap enough to read around every request.
@inline(__always)
func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// The median of a few repeated rate measurements: one noisy pass (a page-cache flush, a scheduler hiccup)
/// neither inflates nor deflates a raw limit.
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Latency distribution of individually timed operations.
struct LatencySummary: Sendable {
    /// Operations timed.
    var count: Int
    /// Percentiles and maximum in microseconds.
    var p50: Double
    var p99: Double
    var max: Double
    var mean: Double

    /// Summarises per-operation durations given in nanoseconds.
    init(nanos: [UInt64]) {
        precondition(!nanos.isEmpty)
        let sorted = nanos.sorted()
        func at(_ q: Double) -> Double {
            // Nearest-rank percentile: the smallest sample with at least q of the samples at or below it.
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return Double(sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]) / 1000
        }
        count = sorted.count
        p50 = at(0.50)
        p99 = at(0.99)
        max = Double(sorted.last!) / 1000
        mean = Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000
    }
}

/// A deterministic generator (SplitMix64), so two runs probe the same proof indexes.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Number formatting for the report.
enum Format {
    /// `1234567.8` → `1,234,568`.
    static func int(_ value: Double) -> String { value.isFinite ? grouped(Int(value.rounded())) : "n/a" }

    /// `1234567` → `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// A value with `places` decimals.
    static func fixed(_ value: Double, _ places: Int) -> String {
        String(format: "%.\(places)f", value)
    }

    /// A ratio as a percentage with one decimal.
    static func percent(_ ratio: Double) -> String { fixed(ratio * 100, 1) + " %" }

    /// KiB as MiB with one decimal.
    static func mebibytes(kib: Int) -> String { fixed(Double(kib) / 1024, 1) + " MiB" }
}

/// CPU time consumed by the calling thread so far, in seconds (CLOCK_THREAD_CPUTIME_ID). The load
/// generator runs on the same cores as the server, so its own CPU is reported beside the server's figures.
func threadCPUSeconds() -> Double {
    // Two machine words (tv_sec, tv_nsec) written by clock_gettime through a rebound pointer.
    var words: (Int, Int) = (0, 0)
    let rc = withUnsafeMutablePointer(to: &words) {
        $0.withMemoryRebound(to: timespec.self, capacity: 1) { clock_gettime(CLOCK_THREAD_CPUTIME_ID, $0) }
    }
    return rc == 0 ? Double(words.0) + Double(words.1) * 1e-9 : 0
}
