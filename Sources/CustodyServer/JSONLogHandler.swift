import CustodyLedger
import CustodyModel
import Foundation
import Logging

/// Writes one JSON object per log record to standard error (`ts`, `level`, `label`, `msg`, then the
/// metadata keys), so that journald, Kubernetes and log shippers get structured records.
public struct JSONLogHandler: LogHandler {
    /// Level at or above which records are written.
    public var logLevel: Logger.Level = .info
    /// Metadata attached to every record of this logger.
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private static let lock = NSLock()

    /// A handler for the logger named `label`.
    public init(label: String) { self.label = label }

    /// Metadata lookup.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one record.
    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (k, v) in metadata { fields[k] = "\(v)" }
        for (k, v) in event.metadata ?? [:] { fields[k] = "\(v)" }
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        var line = "{\"ts\":\(Self.quote(Self.timestamp(millis))),\"level\":\(Self.quote(event.level.rawValue)),"
        line += "\"label\":\(Self.quote(label)),\"msg\":\(Self.quote("\(event.message)"))"
        for k in fields.keys.sorted() { line += ",\(Self.quote(k)):\(Self.quote(fields[k]!))" }
        line += "}\n"
        Self.lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func timestamp(_ millis: Int64) -> String { RFC3339.format(millis: millis) }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
