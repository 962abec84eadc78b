extension Identifiers {
    /// An absolute URI as RFC 3986 defines it (`scheme ":" hier-part ["?" query] ["#" fragment]`), with something
    /// after the colon: what the schemas' `format: uri` and `pattern: ^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$` ask of
    /// evidence links together. ASCII only, so an IRI (`https://example.org/café`) must be percent-encoded.
    public static func isURI(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { u in
            guard let colon = u.firstIndex(of: UInt8(ascii: ":")), colon > 0, colon + 1 < u.count, isLetter(u[0]),
                  u[1..<colon].allSatisfy({ isLetter($0) || isDigit($0) || $0 == 0x2b || $0 == 0x2d || $0 == 0x2e })
            else { return false }
            let rest = u[(colon + 1)...]
            // The fragment starts at the first `#`; the query at the first `?` before it.
            let fragmentStart = rest.firstIndex(of: UInt8(ascii: "#")) ?? u.endIndex
            let queryStart = rest[..<fragmentStart].firstIndex(of: UInt8(ascii: "?")) ?? fragmentStart
            guard isComponent(u[queryStart..<fragmentStart].dropFirst(), extra: "/?"),
                  fragmentStart == u.endIndex || isComponent(u[(fragmentStart + 1)...], extra: "/?")
            else { return false }
            var path = u[(colon + 1)..<queryStart]
            if path.starts(with: [0x2f, 0x2f]) {
                let authority = path.dropFirst(2).prefix { $0 != 0x2f }
                guard isAuthority(authority) else { return false }
                path = path[authority.endIndex...]
            }
            return isComponent(path, extra: "/")
        }
    }

    /// `userinfo "@"`, a host (a registered name, an IPv4 address, or an IP literal in brackets), `":" port`.
    private static func isAuthority(_ a: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var hostAndPort = a
        if let at = a.firstIndex(of: UInt8(ascii: "@")) {
            guard isComponent(a[..<at], extra: ":", pchar: false) else { return false }
            hostAndPort = a[(at + 1)...]
        }
        var port = hostAndPort[hostAndPort.endIndex...]
        if hostAndPort.first == UInt8(ascii: "[") {
            guard let close = hostAndPort.firstIndex(of: UInt8(ascii: "]")),
                  isIPLiteral(hostAndPort[(hostAndPort.startIndex + 1)..<close]) else { return false }
            port = hostAndPort[(close + 1)...]
        } else {
            let colon = hostAndPort.firstIndex(of: UInt8(ascii: ":")) ?? hostAndPort.endIndex
            guard isComponent(hostAndPort[..<colon], extra: "", pchar: false) else { return false }
            port = hostAndPort[colon...]
        }
        return port.isEmpty || (port.first == UInt8(ascii: ":") && port.dropFirst().allSatisfy(isDigit))
    }

    /// Characters of a URI component: unreserved, sub-delims, percent-encoded octets, `:` and `@` (a path
    /// character, when `pchar`) and `extra`.
    private static func isComponent(_ c: Slice<UnsafeBufferPointer<UInt8>>, extra: StaticString, pchar: Bool = true) -> Bool {
        var i = c.startIndex
        while i < c.endIndex {
            let b = c[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < c.endIndex, isHexDigit(c[i + 1]), isHexDigit(c[i + 2]) else { return false }
                i += 3
                continue
            }
            let allowed = isLetter(b) || isDigit(b) || "-._~!$&'()*+,;=".utf8.contains(b)
                || (pchar && (b == UInt8(ascii: ":") || b == UInt8(ascii: "@")))
                || extra.withUTF8Buffer { $0.contains(b) }
            guard allowed else { return false }
            i += 1
        }
        return true
    }

    /// Inside `[` `]`: an IPv6 address, or `v` hex `.` and a future format's characters.
    private static func isIPLiteral(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        if s.first == UInt8(ascii: "v") || s.first == UInt8(ascii: "V") {
            guard let dot = s.firstIndex(of: UInt8(ascii: ".")), dot > s.startIndex + 1, dot + 1 < s.endIndex,
                  s[(s.startIndex + 1)..<dot].allSatisfy(isHexDigit) else { return false }
            return s[(dot + 1)...].allSatisfy { isLetter($0) || isDigit($0) || "-._~!$&'()*+,;=:".utf8.contains($0) }
        }
        return isIPv6(s)
    }

    /// RFC 3986 `IPv6address`: eight 16-bit groups, or fewer around one `::`, the last two possibly an IPv4 address.
    private static func isIPv6(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var groups = 0, compressed = false, i = s.startIndex
        if s.starts(with: [0x3a, 0x3a]) {
            compressed = true
            i += 2
        } else if s.first == UInt8(ascii: ":") {
            return false
        }
        while i < s.endIndex {
            let end = s[i...].firstIndex(of: UInt8(ascii: ":")) ?? s.endIndex
            let group = s[i..<end]
            if end == s.endIndex, group.contains(UInt8(ascii: ".")) {
                guard isIPv4(group) else { return false }
                groups += 2
            } else {
                guard (1...4).contains(group.count), group.allSatisfy(isHexDigit) else { return false }
                groups += 1
            }
            i = end
            if i < s.endIndex {
                i += 1  // the `:`
                if i < s.endIndex, s[i] == UInt8(ascii: ":") {
                    guard !compressed else { return false }
                    compressed = true
                    i += 1
                } else if i == s.endIndex {
                    return false  // a trailing single `:`
                }
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    /// Four decimal octets 0 to 255 without leading zeros (RFC 3986 `dec-octet`).
    private static func isIPv4(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let parts = s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            guard (1...3).contains(p.count), p.allSatisfy(isDigit), p.count == 1 || p.first != UInt8(ascii: "0") else { return false }
            return p.reduce(0) { $0 * 10 + Int($1 - 0x30) } <= 255
        }
    }

    @inline(__always) private static func isLetter(_ c: UInt8) -> Bool { (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) }
    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) }
    @inline(__always) private static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c)
    }
}
