import CustodyLog
import CustodyModel

/// The time a checkpoint's batch was logged at, as one of its C2SP extension lines: `logged-at <RFC 3339>`.
///
/// An entry's `loggedAt` is stored beside its signed bytes, in no hash, so on its own nothing stops a changed
/// one. Every entry of a batch has the batch's time and the batch ends in one signed checkpoint; with the time
/// in that checkpoint, an audit of the database binds every entry's `loggedAt` to the log key, and the receipt
/// of an entry appended in that batch carries it signed (the receipt of a repeat carries the latest checkpoint,
/// whose time is that of a later batch). Checkpoints signed before the line existed have none; clients that do not know the line
/// ignore it, as the checkpoint format lets them.
extension Checkpoint {
    private static let loggedAtPrefix = "logged-at "

    /// A checkpoint of the tree at `size` whose newest entries were logged at `loggedAtMillis`.
    init(origin: String, size: UInt64, root: [UInt8], loggedAtMillis: Int64) {
        self.init(origin: origin, size: size, root: root,
                  extensions: [Self.loggedAtPrefix + RFC3339.format(millis: loggedAtMillis)])
    }

    /// The time the entries this checkpoint added were logged at; nil when it has no `logged-at` line (it was
    /// signed before the line existed). A line that does not read as a time is an error, not an absent line:
    /// that would turn the check off.
    public var loggedAtMillis: Int64? {
        get throws(NoteError) {
            guard let line = extensions.first(where: { $0.hasPrefix(Self.loggedAtPrefix) }) else { return nil }
            guard let millis = RFC3339.millis(String(line.dropFirst(Self.loggedAtPrefix.count))) else {
                throw NoteError("checkpoint line \"\(line)\" is not an RFC 3339 time")
            }
            return millis
        }
    }
}
