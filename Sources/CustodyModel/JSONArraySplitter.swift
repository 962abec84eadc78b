/// Finds the elements of a top-level JSON array without parsing them, so that a batch's items can be parsed
/// on all cores instead of as one tree on one thread.
///
/// Only the array's own punctuation is checked: `[`, elements separated by `,`, `]`, and JSON whitespace
/// around them. An element's extent is found by matching brackets outside strings, which is exact for any
/// valid element; a malformed element is not detected here but by parsing it. So the caller must parse every
/// element it is given; one that is not even well-formed JSON text (`JSONParser.checkSyntax`) may not be one
/// element at all, and makes the body as a whole malformed (see `BatchBody.decode`).
public enum JSONArraySplitter {
    /// The byte ranges of the elements of the array that fills `bytes` (whitespace around it allowed), in order;
    /// nil when the bytes are not shaped as one array (see the type).
    public static func elements(of bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
        var position = skipSpace(bytes, from: 0)
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { return nil }
        position = skipSpace(bytes, from: position + 1)
        var elements: [Range<Int>] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            return skipSpace(bytes, from: position + 1) == bytes.count ? elements : nil
        }
        while true {
            guard let end = elementEnd(bytes, from: position), end > position else { return nil }
            elements.append(position..<end)
            position = skipSpace(bytes, from: end)
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: ","):
                position = skipSpace(bytes, from: position + 1)
            case UInt8(ascii: "]"):
                return skipSpace(bytes, from: position + 1) == bytes.count ? elements : nil
            default:
                return nil
            }
        }
    }


    private static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < bytes.count, JSONParser.isWhitespace(bytes[i]) { i += 1 }
        return i
    }

    /// The index just after the element starting at `start`, or nil when it runs off the end.
    private static func elementEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        var i = start
        switch bytes[i] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, from: i) else { return nil }
                    i = end - 1
                default: break
                }
                i += 1
            }
            return nil
        case UInt8(ascii: "\""):
            return stringEnd(bytes, from: i)
        default:
            // A number or a literal: up to the next separator.
            while i < bytes.count, !JSONParser.isWhitespace(bytes[i]), bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "]") { i += 1 }
            return i
        }
    }

    /// The index just after the string whose opening quote is at `start`.
    private static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""): return i + 1
            case UInt8(ascii: "\\"): i += 2
            default: i += 1
            }
        }
        return nil
    }
}
