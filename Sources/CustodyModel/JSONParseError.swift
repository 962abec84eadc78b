/// Why ``JSONParser`` rejected an input, and where.
///
/// The parser stops at the first problem, so `offset` is the earliest offending byte; the
/// ``description`` is a sentence suitable for an RFC 9457 problem `detail`.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem. Payloads quote the offending input where that helps a client fix it.
    public enum Kind: Sendable, Equatable {
        /// A byte sequence that is not well-formed UTF-8 (overlong, surrogate, truncated, > U+10FFFF, stray
        /// continuation byte). `offset` is the sequence's first byte.
        case invalidUTF8
        /// The input starts with a UTF-8 byte-order mark, which RFC 8259 forbids senders to add.
        case byteOrderMark
        /// An object repeats a key (compared after unescaping, scalar by scalar); `offset` is the
        /// repeated key's opening quote.
        case duplicateKey(String)
        /// A number JCS cannot represent exactly: it overflows to infinity, or (under the default
        /// ``JSONParser/NumberPolicy/safeIntegers``) its value is an integer beyond ±(2^53−1). Carries the
        /// literal (shortened with "…" past 40 bytes).
        case numberOutOfRange(String)
        /// A malformed number literal: leading zero, missing digits (`-`, `1.`, `.5`, `1e`), or a `+`
        /// sign. `offset` is the literal's first byte.
        case invalidNumber
        /// A backslash escape that JSON does not define (e.g. `\x`, `\'`, or `\u` without four hex digits).
        case invalidEscape
        /// A `\u` escape of a UTF-16 surrogate that is not part of a high-then-low pair.
        case loneSurrogate
        /// A raw control character (U+0000–U+001F) inside a string; JSON requires it to be escaped.
        case controlCharacterInString
        /// A byte that cannot start or continue the value here (comments, single quotes, `NaN`, …).
        case unexpectedCharacter(UInt8)
        /// A comma directly before `]` or `}`; `offset` is the comma.
        case trailingComma
        /// The input ends inside a value.
        case unexpectedEnd
        /// Something other than whitespace follows the complete top-level value.
        case trailingData
        /// Arrays and objects nest deeper than the parser's `maxDepth`; `offset` is the opening bracket
        /// that goes one level too deep.
        case tooDeep
        /// The input has no value at all: it is empty or only whitespace.
        case emptyInput
    }

    /// The class of problem.
    public let kind: Kind
    /// The 0-based byte offset in the input where the problem starts.
    public let offset: Int

    /// Makes an error; the parser is the usual source.
    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// One sentence naming the problem and its byte offset, e.g. `duplicate key "type" at byte 42`.
    public var description: String {
        let at = "at byte \(offset)"
        switch kind {
        case .invalidUTF8: return "invalid UTF-8 \(at)"
        case .byteOrderMark: return "byte-order mark \(at) is not allowed"
        case .duplicateKey(let key): return "duplicate key \(Self.quoted(key)) \(at)"
        case .numberOutOfRange(let literal):
            return "number \(literal) \(at) is out of range (numbers must be finite and integers within ±(2^53−1))"
        case .invalidNumber: return "invalid number \(at)"
        case .invalidEscape: return "invalid escape sequence in string \(at)"
        case .loneSurrogate: return "unpaired UTF-16 surrogate escape \(at)"
        case .controlCharacterInString: return "unescaped control character in string \(at)"
        case .unexpectedCharacter(let byte): return "unexpected \(Self.describe(byte)) \(at)"
        case .trailingComma: return "trailing comma \(at)"
        case .unexpectedEnd: return "unexpected end of input \(at)"
        case .trailingData: return "unexpected data after the JSON value \(at)"
        case .tooDeep: return "nesting too deep \(at)"
        case .emptyInput: return "no JSON value in the input (empty or only whitespace) \(at)"
        }
    }

    /// A key in double quotes with controls, quotes and backslashes escaped, at most 40 scalars.
    private static func quoted(_ s: String) -> String {
        var out = "\""
        var n = 0
        for scalar in s.unicodeScalars {
            if n == 40 { out += "…"; break }
            n += 1
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(repeating: "0", count: scalar.value < 0x10 ? 3 : 2)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(byte < 0x10 ? "0" : "")\(hex)"
    }
}
