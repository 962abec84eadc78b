/// RFC 8941 structured field values: the subset HTTP message signatures (RFC 9421) and digest fields
/// (RFC 9530) need, parsed and serialized exactly as the RFC's algorithms (sections 4.1 and 4.2) say.
///
/// Dictionaries, inner lists, items and parameters are supported with every bare item type of RFC 8941
/// (integer, decimal, string, token, byte sequence, boolean); the RFC 9651 additions (dates, display
/// strings) are not, and are refused as parse errors.
public enum StructuredFields {
    /// A bare item.
    public enum BareItem: Sendable, Equatable {
        /// An integer, at most 15 digits.
        case integer(Int64)
        /// A decimal, held in thousandths (at most 12 integer and 3 fractional digits).
        case decimal(thousandths: Int64)
        /// A string of printable ASCII.
        case string(String)
        /// A token.
        case token(String)
        /// A byte sequence.
        case bytes([UInt8])
        /// A boolean.
        case boolean(Bool)
    }

    /// Parameters in order; a later duplicate key overwrites the earlier value in place (section 4.2.3.2).
    public struct Parameters: Sendable, Equatable {
        /// The key-value pairs in order.
        public private(set) var pairs: [(key: String, value: BareItem)] = []

        /// No parameters.
        public init() {}

        /// Parameters from pairs, in order.
        public init(_ pairs: [(String, BareItem)]) {
            for (key, value) in pairs { self[key] = value }
        }

        /// The value of `key`, if present; setting a present key keeps its position.
        public subscript(key: String) -> BareItem? {
            get { pairs.first { $0.key == key }?.value }
            set {
                if let i = pairs.firstIndex(where: { $0.key == key }) {
                    if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
                } else if let newValue {
                    pairs.append((key, newValue))
                }
            }
        }

        /// The keys in order.
        public var keys: [String] { pairs.map(\.key) }

        /// Whether there are none.
        public var isEmpty: Bool { pairs.isEmpty }

        public static func == (lhs: Parameters, rhs: Parameters) -> Bool {
            lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        }
    }

    /// An item with its parameters.
    public struct Item: Sendable, Equatable {
        /// The bare item.
        public var value: BareItem
        /// Its parameters.
        public var parameters: Parameters

        /// An item.
        public init(_ value: BareItem, parameters: Parameters = Parameters()) {
            self.value = value
            self.parameters = parameters
        }
    }

    /// An inner list with its parameters.
    public struct InnerList: Sendable, Equatable {
        /// The items, in order.
        public var items: [Item]
        /// The parameters of the list.
        public var parameters: Parameters

        /// An inner list.
        public init(_ items: [Item], parameters: Parameters = Parameters()) {
            self.items = items
            self.parameters = parameters
        }
    }

    /// A dictionary or list member: an item or an inner list.
    public enum Member: Sendable, Equatable {
        /// An item.
        case item(Item)
        /// An inner list.
        case innerList(InnerList)
    }

    /// A dictionary: members in order; a later duplicate key overwrites the earlier value in place.
    public struct Dictionary: Sendable, Equatable {
        /// The members in order.
        public private(set) var members: [(key: String, value: Member)] = []

        /// An empty dictionary.
        public init() {}

        /// The member named `key`, if present; setting a present key keeps its position.
        public subscript(key: String) -> Member? {
            get { members.first { $0.key == key }?.value }
            set {
                if let i = members.firstIndex(where: { $0.key == key }) {
                    if let newValue { members[i].value = newValue } else { members.remove(at: i) }
                } else if let newValue {
                    members.append((key, newValue))
                }
            }
        }

        /// The keys in order.
        public var keys: [String] { members.map(\.key) }

        public static func == (lhs: Dictionary, rhs: Dictionary) -> Bool {
            lhs.members.count == rhs.members.count && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        }
    }

    /// A field value is not a valid structured field of the expected type.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, with the byte offset where parsing stopped.
        public let description: String
    }

    // MARK: Parsing (RFC 8941 section 4.2)

    /// Parses a dictionary field value (several field lines joined with `,` beforehand).
    public static func parseDictionary(_ text: String) throws(ParseError) -> Dictionary {
        var p = Parser(text)
        p.skipSP()
        var dictionary = Dictionary()
        guard !p.atEnd else { return dictionary }
        while true {
            let key = try p.parseKey()
            if p.peek == UInt8(ascii: "=") {
                p.advance()
                dictionary[key] = try p.parseItemOrInnerList()
            } else {
                dictionary[key] = .item(Item(.boolean(true), parameters: try p.parseParameters()))
            }
            p.skipOWS()
            if p.atEnd { break }
            guard p.peek == UInt8(ascii: ",") else { throw p.error("expected \",\" after dictionary member \(key)") }
            p.advance()
            p.skipOWS()
            if p.atEnd { throw p.error("trailing \",\" in dictionary") }
        }
        return dictionary
    }

    /// Parses an item field value.
    public static func parseItem(_ text: String) throws(ParseError) -> Item {
        var p = Parser(text)
        p.skipSP()
        let item = try p.parseItem()
        p.skipSP()
        guard p.atEnd else { throw p.error("unexpected characters after the item") }
        return item
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(_ text: String) { bytes = Array(text.utf8) }

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[i] }
        mutating func advance() { i += 1 }

        func error(_ what: String) -> ParseError { ParseError(description: "\(what) (at offset \(i))") }

        mutating func skipSP() { while peek == 0x20 { advance() } }
        mutating func skipOWS() { while peek == 0x20 || peek == 0x09 { advance() } }

        static func isLCAlpha(_ c: UInt8) -> Bool { (0x61...0x7a).contains(c) }
        static func isAlpha(_ c: UInt8) -> Bool { (0x41...0x5a).contains(c) || isLCAlpha(c) }
        static func isDigit(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) }
        /// RFC 9110 tchar.
        static func isTChar(_ c: UInt8) -> Bool {
            isAlpha(c) || isDigit(c) || Array("!#$%&'*+-.^_`|~".utf8).contains(c)
        }

        mutating func parseKey() throws(ParseError) -> String {
            guard let c = peek, Self.isLCAlpha(c) || c == UInt8(ascii: "*") else {
                throw error("a key starts with a lower-case letter or \"*\"")
            }
            var out: [UInt8] = []
            while let c = peek, Self.isLCAlpha(c) || Self.isDigit(c) || Array("_-.*".utf8).contains(c) {
                out.append(c)
                advance()
            }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func parseItemOrInnerList() throws(ParseError) -> Member {
            peek == UInt8(ascii: "(") ? .innerList(try parseInnerList()) : .item(try parseItem())
        }

        mutating func parseInnerList() throws(ParseError) -> InnerList {
            guard peek == UInt8(ascii: "(") else { throw error("expected \"(\"") }
            advance()
            var items: [Item] = []
            while !atEnd {
                skipSP()
                if peek == UInt8(ascii: ")") {
                    advance()
                    return InnerList(items, parameters: try parseParameters())
                }
                items.append(try parseItem())
                guard peek == 0x20 || peek == UInt8(ascii: ")") else { throw error("expected a space or \")\" in inner list") }
            }
            throw error("inner list is not closed")
        }

        mutating func parseItem() throws(ParseError) -> Item {
            let value = try parseBareItem()
            return Item(value, parameters: try parseParameters())
        }

        mutating func parseParameters() throws(ParseError) -> Parameters {
            var parameters = Parameters()
            while peek == UInt8(ascii: ";") {
                advance()
                skipSP()
                let key = try parseKey()
                var value = BareItem.boolean(true)
                if peek == UInt8(ascii: "=") {
                    advance()
                    value = try parseBareItem()
                }
                parameters[key] = value
            }
            return parameters
        }

        mutating func parseBareItem() throws(ParseError) -> BareItem {
            guard let c = peek else { throw error("expected an item") }
            if c == UInt8(ascii: "-") || Self.isDigit(c) { return try parseNumber() }
            if c == UInt8(ascii: "*") || Self.isAlpha(c) { return parseToken() }
            switch c {
            case UInt8(ascii: "\""): return try parseString()
            case UInt8(ascii: ":"): return try parseByteSequence()
            case UInt8(ascii: "?"): return try parseBoolean()
            default: throw error("unexpected character \"\(Character(Unicode.Scalar(c)))\" where an item starts")
            }
        }

        mutating func parseNumber() throws(ParseError) -> BareItem {
            var negative = false
            if peek == UInt8(ascii: "-") {
                negative = true
                advance()
            }
            guard let first = peek, Self.isDigit(first) else { throw error("a number needs a digit") }
            var integerDigits: [UInt8] = []
            var fractionDigits: [UInt8] = []
            var isDecimal = false
            while let c = peek {
                if Self.isDigit(c) {
                    if isDecimal { fractionDigits.append(c) } else { integerDigits.append(c) }
                } else if c == UInt8(ascii: "."), !isDecimal {
                    guard integerDigits.count <= 12 else { throw error("a decimal has at most 12 integer digits") }
                    isDecimal = true
                } else {
                    break
                }
                advance()
                if !isDecimal, integerDigits.count > 15 { throw error("an integer has at most 15 digits") }
                if isDecimal, integerDigits.count + fractionDigits.count > 15 { throw error("a decimal has at most 15 digits") }
            }
            func value(_ digits: [UInt8]) -> Int64 { digits.reduce(0) { $0 * 10 + Int64($1 - 0x30) } }
            if !isDecimal {
                let n = value(integerDigits)
                return .integer(negative ? -n : n)
            }
            guard (1...3).contains(fractionDigits.count) else { throw error("a decimal has 1 to 3 fractional digits") }
            // Scale the fraction to thousandths: ".5" is 500, ".05" is 50.
            let thousandths = value(integerDigits) * 1000 + value(fractionDigits) * Int64([1, 100, 10, 1][fractionDigits.count])
            return .decimal(thousandths: negative ? -thousandths : thousandths)
        }

        mutating func parseString() throws(ParseError) -> BareItem {
            advance()  // the opening quote
            var out: [UInt8] = []
            while let c = peek {
                advance()
                switch c {
                case UInt8(ascii: "\\"):
                    guard let next = peek, next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else {
                        throw error("a string may escape only \" and \\")
                    }
                    out.append(next)
                    advance()
                case UInt8(ascii: "\""):
                    return .string(String(decoding: out, as: UTF8.self))
                case 0x20...0x7e:
                    out.append(c)
                default:
                    throw error("a string holds only printable ASCII")
                }
            }
            throw error("string is not closed")
        }

        mutating func parseToken() -> BareItem {
            var out: [UInt8] = []
            while let c = peek, Self.isTChar(c) || c == UInt8(ascii: ":") || c == UInt8(ascii: "/") {
                out.append(c)
                advance()
            }
            return .token(String(decoding: out, as: UTF8.self))
        }

        mutating func parseByteSequence() throws(ParseError) -> BareItem {
            advance()  // the opening colon
            var text: [UInt8] = []
            while let c = peek, c != UInt8(ascii: ":") {
                guard Self.isAlpha(c) || Self.isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=") else {
                    throw error("a byte sequence holds only base64 characters")
                }
                text.append(c)
                advance()
            }
            guard peek == UInt8(ascii: ":") else { throw error("byte sequence is not closed") }
            advance()
            var padded = String(decoding: text, as: UTF8.self)
            // RFC 8941 lets parsers accept base64 without padding.
            if !padded.contains("="), padded.utf8.count % 4 != 0 {
                padded += String(repeating: "=", count: 4 - padded.utf8.count % 4)
            }
            guard let bytes = Base64.decode(padded) else { throw error("byte sequence is not valid base64") }
            return .bytes(bytes)
        }

        mutating func parseBoolean() throws(ParseError) -> BareItem {
            advance()  // "?"
            switch peek {
            case UInt8(ascii: "1"): advance(); return .boolean(true)
            case UInt8(ascii: "0"): advance(); return .boolean(false)
            default: throw error("a boolean is ?0 or ?1")
            }
        }
    }

    // MARK: Serializing (RFC 8941 section 4.1)

    /// The serialization of a dictionary.
    public static func serialize(_ dictionary: Dictionary) -> String {
        dictionary.members.map { key, member in
            switch member {
            case .item(let item) where item.value == .boolean(true):
                key + serialize(item.parameters)
            case .item(let item):
                key + "=" + serialize(item)
            case .innerList(let list):
                key + "=" + serialize(list)
            }
        }.joined(separator: ", ")
    }

    /// The serialization of an inner list with its parameters.
    public static func serialize(_ list: InnerList) -> String {
        "(" + list.items.map(serialize).joined(separator: " ") + ")" + serialize(list.parameters)
    }

    /// The serialization of an item with its parameters.
    public static func serialize(_ item: Item) -> String {
        serialize(item.value) + serialize(item.parameters)
    }

    /// The serialization of parameters.
    public static func serialize(_ parameters: Parameters) -> String {
        parameters.pairs.map { key, value in
            value == .boolean(true) ? ";" + key : ";" + key + "=" + serialize(value)
        }.joined()
    }

    /// The serialization of a bare item.
    public static func serialize(_ value: BareItem) -> String {
        switch value {
        case .integer(let n):
            return String(n)
        case .decimal(let thousandths):
            let sign = thousandths < 0 ? "-" : ""
            let magnitude = thousandths.magnitude
            var fraction = String(magnitude % 1000)
            fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
            while fraction.count > 1, fraction.hasSuffix("0") { fraction.removeLast() }
            return "\(sign)\(magnitude / 1000).\(fraction)"
        case .string(let s):
            var out = "\""
            for c in s.unicodeScalars {
                if c == "\"" || c == "\\" { out.append("\\") }
                out.unicodeScalars.append(c)
            }
            return out + "\""
        case .token(let t):
            return t
        case .bytes(let b):
            return ":" + Base64.encode(b) + ":"
        case .boolean(let b):
            return b ? "?1" : "?0"
        }
    }

    /// Whether `s` can be serialized as a string (printable ASCII only).
    public static func isValidString(_ s: String) -> Bool {
        s.utf8.allSatisfy { (0x20...0x7e).contains($0) }
    }
}
