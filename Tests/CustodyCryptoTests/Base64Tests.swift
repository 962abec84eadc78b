import CustodyCrypto
import Foundation
import Testing

/// Signatures, hashes and salts travel as standard padded base64 (RFC 4648 section 4), and the log reads them
/// back from stored envelopes: one value must have one spelling, or two stored byte strings could carry the
/// same signature.
@Suite struct Base64Tests {
    @Test func roundTripsEveryLengthAsFoundationSpellsIt() {
        var rng = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString(), "length \(length)")
            #expect(Base64.decode(text) == bytes, "length \(length)")
        }
    }

    @Test func decodesEveryAlphabetCharacterInEveryPosition() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        // 64 characters in 16 quads, then each rotation, so every character sits at each of a quad's places.
        for shift in 0..<4 {
            let text = String(alphabet[shift...] + alphabet[..<shift])
            #expect(Base64.decode(text).map(Base64.encode) == text)
            #expect(Base64.decode(text) == Data(base64Encoded: text).map(Array.init))
        }
    }

    @Test(arguments: [
        "QUJD QUJD",    // whitespace
        "QUJDQUJ",      // not a multiple of 4
        "QU=DQUJD",     // padding before the end
        "QUJDQ===",     // three padding characters
        "QUJD-_JD",     // the URL-safe alphabet
        "QUJDQUJD\n",   // a trailing newline
        "QR==",         // stray bits below the last byte (canonical is QQ==)
        "QUF=",         // stray bits below the last two bytes (canonical is QUE=)
        "=QUJ",         // padding first
        "QU\u{e9}",     // a character outside ASCII (two bytes: four in all)
    ])
    func refusesAnythingButTheOneCanonicalSpelling(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func refusesABadCharacterWhereverItIs() {
        let good = Base64.encode(Array(0..<48 as Range<UInt8>))
        #expect(Base64.decode(good) != nil)
        for position in good.indices {
            for bad in ["!", "=", "-", "_", " ", "\u{0}"] {
                var text = good
                text.replaceSubrange(position...position, with: bad)
                // `=` for the last character can make another canonical spelling (of one byte fewer).
                let canonical = Data(base64Encoded: text).map { $0.base64EncodedString() == text } ?? false
                #expect((Base64.decode(text) != nil) == canonical, "\(bad) at \(good.distance(from: good.startIndex, to: position))")
            }
        }
    }
}
