/// RFC 6901 JSON pointers, as problems use them to name the offending member of a document.
public enum JSONPointer {
    /// `pointer` extended by the member named `key`, escaped as one reference token (see ``escape(_:)``); the
    /// pointer of a top-level member is `appending(key, to: "")`.
    public static func appending(_ key: String, to pointer: String) -> String {
        pointer + "/" + escape(key)
    }

    /// `key` as a reference token: `~` becomes `~0` and `/` becomes `~1` (RFC 6901 section 3), so that a member
    /// named `a/b` is not read as member `b` of member `a`.
    public static func escape(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        var token = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "~": token += "~0"
            case "/": token += "~1"
            default: token.unicodeScalars.append(scalar)
            }
        }
        return token
    }

    /// The member name a reference token stands for: `~1` becomes `/`, then `~0` becomes `~` (RFC 6901 section 4,
    /// in that order, so `~01` is `~1`).
    public static func unescape(_ token: some StringProtocol) -> String {
        var key = ""
        var scalars = token.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "~" else {
                key.unicodeScalars.append(scalar)
                continue
            }
            switch scalars.next() {
            case "0": key += "~"
            case "1": key += "/"
            case let other?: key += "~" + String(other)
            case nil: key += "~"
            }
        }
        return key
    }
}
