/// A Bloom filter over the ids the rules require to be new (parcels, KP certificates, grading reports), so that
/// the common case, an id never seen, is answered in memory instead of by a read of the tables that finds
/// nothing. A "maybe" falls through to the tables, so a false positive costs one read and is never wrong.
///
/// Fixed size (8 MiB, 4 probes in one 64-byte block): by the usual estimate, about 1 false positive in 50,000
/// at a million ids and 1 in 25 at ten million.
/// Never shrinks: ids of a rolled-back transaction stay in it, which only adds false positives.
struct KeyFilter {
    enum Kind: UInt8 { case parcel = 1, certificate = 2, gradingReport = 3 }

    private static let bitCount = 1 << 26
    private var words = [UInt64](repeating: 0, count: bitCount / 64)
    private let seed = UInt64.random(in: .min ... .max)

    // Blocked: the 4 probes of an id fall in one 64-byte block (8 words), so a query or insert touches one or
    // two cache lines of the 8 MiB (the array is not line-aligned) instead of four. Costs a little in false
    // positives over spreading them.
    mutating func insert(_ kind: Kind, _ id: String) {
        let (h1, h2) = hashes(kind, id)
        let block = Self.block(h1)
        words.withUnsafeMutableBufferPointer { w in
            for i in 0..<4 {
                let p = Self.probe(h2, i)
                w[block + p >> 6] |= 1 << UInt64(p & 63)
            }
        }
    }

    func mayContain(_ kind: Kind, _ id: String) -> Bool {
        let (h1, h2) = hashes(kind, id)
        let block = Self.block(h1)
        return words.withUnsafeBufferPointer { w in
            for i in 0..<4 {
                let p = Self.probe(h2, i)
                if w[block + p >> 6] & (1 << UInt64(p & 63)) == 0 { return false }
            }
            return true
        }
    }

    /// The first of the 8 words of the block an id hashes to.
    private static func block(_ h: UInt64) -> Int { Int(h % UInt64(bitCount / 512)) * 8 }

    /// The `i`th probe's bit within the block (0..<512), 9 bits of the second hash at a time.
    private static func probe(_ h: UInt64, _ i: Int) -> Int { Int(truncatingIfNeeded: h >> UInt64(9 * i)) & 511 }

    /// Two independent 64-bit hashes (Kirsch–Mitzenmacher double hashing): FNV-1a over the kind and the UTF-8
    /// bytes, then two SplitMix64 finalisers.
    private func hashes(_ kind: Kind, _ id: String) -> (UInt64, UInt64) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        h = (h ^ UInt64(kind.rawValue)) &* 0x0000_0100_0000_01b3
        for byte in id.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return (Self.mix(h), Self.mix(h ^ 0x9e37_79b9_7f4a_7c15) | 1)
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
