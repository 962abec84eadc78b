import CustodyLog
import CustodyModel

/// What a checkpoint says of the batch it ends, as C2SP extension lines: `logged-at <RFC 3339>`, the time the
/// batch was logged at, and `previous-size <n>`, the size of the checkpoint signed before it.
///
/// An entry's `loggedAt` is stored beside its signed bytes, in no hash, so on its own nothing stops a changed
/// one. Every entry of a batch has the batch's time and the batch ends in one signed checkpoint; with the time
/// in that checkpoint, an audit of the database binds every entry's `loggedAt` to the log key, and the receipt
/// of an entry appended in that batch carries it signed (the receipt of a repeat carries the latest checkpoint,
/// whose time is that of a later batch). The previous size chains the checkpoints, so that a deleted one, which
/// would merge two batches under one time, is seen. Checkpoints signed before the lines existed have none;
/// clients that do not know the lines ignore them, as the checkpoint format lets them.
extension Checkpoint {
    private static let loggedAtPrefix = "logged-at "
    private static let previousSizePrefix = "previous-size "

    /// A checkpoint of the tree at `size` whose newest entries were logged at `loggedAtMillis`, signed after the
    /// checkpoint of size `previousSize`.
    init(origin: String, size: UInt64, root: [UInt8], loggedAtMillis: Int64, previousSize: UInt64) {
        self.init(origin: origin, size: size, root: root,
                  extensions: [Self.loggedAtPrefix + RFC3339.format(millis: loggedAtMillis), Self.previousSizePrefix + String(previousSize)])
    }

    /// The time the entries this checkpoint added were logged at; nil when it has no `logged-at` line (it was
    /// signed before the line existed). A line that does not read as a time is an error, not an absent line:
    /// that would turn the check off.
    public var loggedAtMillis: Int64? {
        get throws(NoteError) { try value(Self.loggedAtPrefix, "an RFC 3339 time", RFC3339.millis) }
    }

    /// The size of the checkpoint signed before this one; nil when it has no `previous-size` line.
    public var previousSize: UInt64? {
        get throws(NoteError) {
            try value(Self.previousSizePrefix, "a tree size") { text in UInt64(text).flatMap { String($0) == text ? $0 : nil } }
        }
    }

    private func value<T>(_ prefix: String, _ what: String, _ read: (String) -> T?) throws(NoteError) -> T? {
        guard let line = extensions.first(where: { $0.hasPrefix(prefix) }) else { return nil }
        guard let value = read(String(line.dropFirst(prefix.count))) else { throw NoteError("checkpoint line \"\(line)\" is not \(what)") }
        return value
    }
}
