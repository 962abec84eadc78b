import CustodyDomain
@testable import CustodyStore
import Foundation
import Testing

/// The identifier, country and date checks that every event's fields pass through, against independent
/// references: the documented patterns as regular expressions, and the Gregorian calendar.
@Suite struct IdentifiersTests {
    static let idPattern = try! NSRegularExpression(pattern: "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
    static let participantPattern = try! NSRegularExpression(pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

    static func matches(_ pattern: NSRegularExpression, _ s: String) -> Bool {
        // The anchors must match the whole string, not a line of it.
        !s.contains("\n") && pattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    @Test func idsMatchTheirPatterns() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09._:/-–é \n\"#".unicodeScalars)
        var cases = ["", "a", "-a", "a-", "Z9", String(repeating: "a", count: 128), String(repeating: "a", count: 129),
                     "BW-2026/1", "parcel:1.2_3", "é", "a b", "a/b", "/a"]
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...8, using: &rng)
            cases.append(String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &rng)! })))
        }
        for s in cases {
            #expect(Identifiers.isID(s) == Self.matches(Self.idPattern, s), "isID(\(s.debugDescription))")
            #expect(Identifiers.isParticipantID(s) == Self.matches(Self.participantPattern, s), "isParticipantID(\(s.debugDescription))")
        }
    }

    @Test func countriesAreTwoUpperCaseLetters() {
        for s in ["BW", "ZZ"] { #expect(Identifiers.isCountry(s)) }
        for s in ["bw", "B", "BWA", "B1", "", "ÉA"] { #expect(!Identifiers.isCountry(s), "\(s)") }
    }

    @Test func datesAreRealGregorianDays() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for year in [1900, 1999, 2000, 2023, 2024, 2100, 2400] {
            for month in 0...13 {
                for day in 0...32 {
                    let text = String(format: "%04d-%02d-%02d", year, month, day)
                    let components = DateComponents(year: year, month: month, day: day)
                    let real = (1...12).contains(month) && day >= 1 && components.isValidDate(in: calendar)
                    #expect(Identifiers.isDate(text) == real, "\(text)")
                }
            }
        }
        for s in ["2024-1-01", "2024/01/01", "2024-01-01T00", "20x4-01-01", "", "2024-01-0a"] {
            #expect(!Identifiers.isDate(s), "\(s)")
        }
    }
}

/// The order parcel rows are written in: SQLite's BINARY collation, which compares UTF-8 bytes.
@Suite struct BinaryOrderTests {
    @Test func matchesByteOrder() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aAbZ0-/:é€😀".unicodeScalars)
        let strings = (0..<2_000).map { _ in
            String(String.UnicodeScalarView((0..<Int.random(in: 0...5, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
        }
        for _ in 0..<4_000 {
            let a = strings.randomElement(using: &rng)!, b = strings.randomElement(using: &rng)!
            #expect(binaryPrecedes(a, b) == Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)), "\(a.debugDescription) < \(b.debugDescription)")
        }
    }
}
