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

    @Test func certificateNumbersMatchTheirPattern() {
        let pattern = try! NSRegularExpression(pattern: "^[A-Z]{2}-[A-Za-z0-9/-]{1,60}$")
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("BWa9/-_. é".unicodeScalars)
        var cases = ["BW-1", "BW-", "bw-1", "B-1", "BW1", "BW-2026/000123", "BW-" + String(repeating: "1", count: 60),
                     "BW-" + String(repeating: "1", count: 61), "BW-2026.1", "BW-2026:1"]
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...6, using: &rng)
            cases.append("BW" + String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &rng)! })))
        }
        for s in cases {
            #expect(Identifiers.isCertificateNumber(s) == Self.matches(pattern, s), "isCertificateNumber(\(s.debugDescription))")
        }
    }

    /// `\S` in the schemas is ECMA-262's: every scalar but these (WhiteSpace and LineTerminator) is text.
    @Test func textHasACharacterOtherThanECMAScriptWhiteSpace() {
        let spaces = Set<UInt32>([0x09, 0x0b, 0x0c, 0x20, 0xa0, 0xfeff, 0x1680, 0x202f, 0x205f, 0x3000, 0x0a, 0x0d, 0x2028, 0x2029])
            .union(0x2000...0x200a)
        for value in UInt32(0)...0x10ffff {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let s = String(Character(scalar))
            #expect(Identifiers.isText(s) == !spaces.contains(value), "U+\(String(value, radix: 16))")
        }
        #expect(Identifiers.isText(" \u{3000}x\t"))
        #expect(!Identifiers.isText("") && !Identifiers.isText(" \t\u{a0}\u{3000}\n"))
    }

    @Test func urisAreAbsoluteRFC3986URIs() {
        let good = ["https://example.org/report.pdf", "urn:ietf:rfc:3986", "mailto:a@b.example", "a:b", "x:/", "file:///etc/hosts",
                    "https://user:pw@example.org:8443/a/b;c?q=1&r=%20#frag/?", "http://[::1]/", "http://[2001:db8::7]:80/c=GB?one",
                    "http://[::ffff:192.0.2.1]/", "http://[v7.x:y]/", "http://1.2.3.4:/", "tag:example.org,2026:x", "s3://b/k%2Fv",
                    "https://example.org/~a_b-c.d!$&'()*+,;=:@"]
        let bad = ["", "not a uri", "https:", ":x", "1a:b", "a b:c", "//example.org/a", "https://example.org/a b", "https://example.org/café",
                   "https://example.org/%2", "https://example.org/%zz", "https://example.org/a#b#c", "https://example.org/[1]",
                   "https://example.org/a|b", "https://example.org/a\\b", "https://example.org/a\"b", "https://example.org:8a/",
                   "https://exa mple.org/", "https://u@v@example.org/", "http://[::1/", "http://[1:2:3:4:5:6:7:8:9]/", "http://[1::2::3]/",
                   "http://[::ffff:1.2.3.256]/", "http://[::ffff:01.2.3.4]/", "http://[v.x]/", "http://[12345::]/", "http://[1:]/",
                   "https://example.org/a\n", "https://example.org/\u{3000}"]
        for s in good { #expect(Identifiers.isURI(s), "\(s.debugDescription)") }
        for s in bad { #expect(!Identifiers.isURI(s), "\(s.debugDescription)") }
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
