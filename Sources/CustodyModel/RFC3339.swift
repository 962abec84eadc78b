/// Strict RFC 3339 UTC timestamps (`2026-11-29T02:11:19Z`, optional fraction), without Foundation's
/// formatters, which are slow and locale-sensitive.
public enum RFC3339 {
    /// Milliseconds since the Unix epoch, or nil if `s` is not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    public static func millis(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { millis(utf8: $0) }
    }

    /// ``millis(_:)`` of text given as its UTF-8 bytes (a slice of a stored envelope, read without a `String`).
    public static func millis(utf8 u: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard u.count >= 20, u.last == UInt8(ascii: "Z") else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<from + len {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard u[4] == 0x2d, u[7] == 0x2d, u[10] == UInt8(ascii: "T"), u[13] == 0x3a, u[16] == 0x3a,
              let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
              let hour = num(11, 2), let minute = num(14, 2), let second = num(17, 2),
              (1...12).contains(month), (1...daysIn(month, year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var millis = 0
        if u.count > 20 {
            // A fraction: '.' then 1-9 digits, of which milliseconds are kept.
            guard u[19] == 0x2e, (22...30).contains(u.count) else { return nil }
            let digits = u.count - 21
            guard let frac = num(20, digits) else { return nil }
            var f = frac
            for _ in 0..<max(0, digits - 3) { f /= 10 }
            for _ in digits..<3 { f *= 10 }
            millis = f
        }
        let days = daysFromCivil(year, month, day)
        return Int64(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + Int64(millis)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the epoch.
    public static func format(millis: Int64) -> String {
        let ms = Int(millis %% 1000)
        let totalSeconds = Int((millis - Int64(ms)) / 1000)
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secs = totalSeconds - days * 86_400
        let (y, m, d) = civilFromDays(days)
        func p(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(secs / 3600, 2)):\(p(secs / 60 % 60, 2)):\(p(secs % 60, 2)).\(p(ms, 3))Z"
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

infix operator %%: MultiplicationPrecedence
/// Modulo that is never negative.
func %% (a: Int64, b: Int64) -> Int64 { let r = a % b; return r < 0 ? r + b : r }
