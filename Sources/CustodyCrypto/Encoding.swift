import Foundation

/// Standard base64 with padding (RFC 4648 section 4), strict on decode.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes. Written out rather than through `Data`, which costs an allocation and dynamic casts on
    /// every call: receipts encode some twenty hashes each on the sequencer thread.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String { encode(Array(bytes)) }

    /// Encodes an array of bytes; the concrete overload, so callers in other modules do not go through the
    /// unspecialised generic one element at a time.
    public static func encode(_ input: [UInt8]) -> String {
        let count = (input.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: count) { out in
            var o = 0
            var i = 0
            while i + 3 <= input.count {
                let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = alphabet[Int(n >> 6 & 63)]
                out[o + 3] = alphabet[Int(n & 63)]
                i += 3
                o += 4
            }
            let rest = input.count - i
            if rest > 0 {
                let n = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "=")
                out[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }

    /// Decodes standard padded base64; nil for anything else (whitespace, URL alphabet, missing padding,
    /// stray bits in the last character, so that one value has one spelling).
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(utf8: $0) }
    }

    /// ``decode(_:)`` of text given as its UTF-8 bytes, e.g. a slice of a stored envelope.
    public static func decode(utf8 text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        if text.isEmpty { return [] }
        let padding = text[text.count - 1] == UInt8(ascii: "=") ? (text[text.count - 2] == UInt8(ascii: "=") ? 2 : 1) : 0
        let count = text.count / 4 * 3 - padding
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { out, written in
            sextets.withUnsafeBufferPointer { table in
                // Every quad but the last holds three whole bytes.
                var o = 0
                var i = 0
                var seen: UInt32 = 0
                while i + 4 < text.count {
                    let a = table[Int(text[i])], b = table[Int(text[i + 1])]
                    let c = table[Int(text[i + 2])], d = table[Int(text[i + 3])]
                    seen |= a | b | c | d
                    let n = a << 18 | b << 12 | c << 6 | d
                    out[o] = UInt8(truncatingIfNeeded: n >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: n >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: n)
                    o += 3
                    i += 4
                }
                let a = table[Int(text[i])], b = table[Int(text[i + 1])]
                let c = padding == 2 ? 0 : table[Int(text[i + 2])]
                let d = padding >= 1 ? 0 : table[Int(text[i + 3])]
                // Any character outside the alphabet, `=` before the padding included, is 64 or more.
                guard seen | a | b | c | d < 64 else { failed = true; written = 0; return }
                let n = a << 18 | b << 12 | c << 6 | d
                out[o] = UInt8(truncatingIfNeeded: n >> 16)
                if padding < 2 { out[o + 1] = UInt8(truncatingIfNeeded: n >> 8) }
                if padding < 1 { out[o + 2] = UInt8(truncatingIfNeeded: n) }
                // The bits below the last full byte must be zero (canonical spelling).
                if padding == 2 && n & 0xffff != 0 || padding == 1 && n & 0xff != 0 { failed = true }
                written = failed ? 0 : count
            }
        }
        return failed ? nil : bytes
    }

    /// The value of each byte as a base64 character, or 64 for a byte outside the alphabet (`=` among them).
    private static let sextets: [UInt32] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(c) - UInt32(UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(c) - UInt32(UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c) - UInt32(UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: 64
        }
    }
}

/// Lowercase hexadecimal.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String { encode(Array(bytes)) }

    /// Encodes an array of bytes (the concrete overload, as for `Base64`).
    public static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var o = 0
            for b in bytes {
                out[o] = digits[Int(b >> 4)]
                out[o + 1] = digits[Int(b & 0x0f)]
                o += 2
            }
            return o
        }
    }

    /// Decodes hex (either case); nil if the text is not an even number of hex digits.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = value(utf8[i]), let lo = value(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
