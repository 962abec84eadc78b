import CustodyCrypto
import CustodyDomain
import CustodyLog
import CustodyModel
import CustodyStore
import Foundation
import Logging

/// The daemon's data directory: `custody.sqlite`, `log.key` (0600), `log.vkey`, `registrar.key` (0600).
/// On first start with an empty directory it creates them and appends the genesis entry.
public struct DataDirectory: Sendable {
    /// The directory path.
    public let path: String

    /// The database file.
    public var databasePath: String { path + "/custody.sqlite" }
    /// The log's signer key (C2SP `PRIVATE+KEY+…`), secret.
    public var logKeyPath: String { path + "/log.key" }
    /// The log's verifier key (C2SP `name+id+key`), public: auditors pin it.
    public var logVerifierKeyPath: String { path + "/log.vkey" }
    /// The registrar's key file, secret.
    public var registrarKeyPath: String { path + "/registrar.key" }

    /// A data directory at `path` (not yet opened).
    public init(path: String) { self.path = path }

    /// Opens the ledger in this directory, initialising it on first use with `origin`.
    /// Returns the ledger and whether it was created now.
    public func openLedger(origin: String, logger: Logger) async throws -> (ledger: Ledger, created: Bool) {
        try await openLedger(origin: origin, logger: logger, enforcesRules: true)
    }

    /// ``openLedger(origin:logger:)``, or without the custody rules for the benchmark's comparison (see
    /// ``Ledger``'s rules-off initializer).
    package func openLedger(origin: String, logger: Logger, enforcesRules: Bool,
                            clock: @escaping @Sendable () -> Int64 = Ledger.systemClock) async throws -> (ledger: Ledger, created: Bool) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // One daemon per directory: a second would serve a stale tree and fail every append.
        let lock = try DirectoryLock(path: path + "/custodyd.lock")
        // The log key is written as `log.key.pending` and renamed to `log.key` once the genesis entry is
        // committed: `log.key` without the database is a lost database, never a first start, and starting a
        // new log under that key would fork the log its checkpoints already signed.
        let pendingKeyPath = logKeyPath + ".pending"
        var fresh = false
        if !fm.fileExists(atPath: logKeyPath) {
            if fm.fileExists(atPath: databasePath) {
                // A first start that stopped after the genesis: the pending key is the log's.
                guard fm.fileExists(atPath: pendingKeyPath) else {
                    throw DataDirectoryError("\(databasePath) exists but \(logKeyPath) does not; refusing to guess the log key")
                }
            } else {
                // Key files without the database are what a first start stopped part-way left (or a partial
                // restore): no event of this log was signed or logged with them. New ones are made; the old
                // are kept aside, renamed, in case an operator placed them, and their temporary files removed.
                let names = ["registrar.key", "log.vkey", "log.key", "log.key.pending"]
                let temporary = try fm.contentsOfDirectory(atPath: path).filter { file in names.contains { file.hasPrefix($0 + ".tmp-") } }
                for file in temporary { try fm.removeItem(atPath: path + "/" + file) }
                let stamp = Int64(Date().timeIntervalSince1970)
                for leftover in [registrarKeyPath, logVerifierKeyPath, pendingKeyPath] where fm.fileExists(atPath: leftover) {
                    let aside = "\(leftover).orphaned-\(stamp)"
                    try fm.moveItem(atPath: leftover, toPath: aside)
                    logger.warning("a key file without log.key or a database, left by an interrupted first start, is kept aside; new keys are made",
                                   metadata: ["file": "\(leftover)", "kept.as": "\(aside)"])
                }
                let signer = try NoteSigner(name: origin, key: SigningKey.generate())
                let registrar = SigningKey.generate()
                try KeyFile(key: registrar, participant: "registrar").write(to: registrarKeyPath)
                try SecureFile.writeNew(Array((signer.verifier.encoded + "\n").utf8), to: logVerifierKeyPath, mode: 0o644)
                try SecureFile.writeNew(Array((signer.encoded + "\n").utf8), to: pendingKeyPath)
                fresh = true
            }
        } else if !fm.fileExists(atPath: databasePath) {
            throw DataDirectoryError("""
                \(logKeyPath) exists but \(databasePath) does not: the database was lost or moved. Restore it; a new log \
                under the same key would fork the one its checkpoints signed
                """)
        }
        let keyPath = fm.fileExists(atPath: logKeyPath) ? logKeyPath : pendingKeyPath
        let signer = try NoteSigner(encoded: String(contentsOfFile: keyPath, encoding: .utf8))
        if signer.name != origin {
            logger.warning("configured origin differs from the log's; the log keeps its own",
                           metadata: ["log.origin": "\(signer.name)", "config.origin": "\(origin)"])
        }
        let store = try LogStore(path: databasePath)
        let ledger = try Ledger(store: store, signer: signer, logger: logger, enforcesRules: enforcesRules, clock: clock)
        if ledger.treeSize == 0 {
            let registrar = try KeyFile.read(from: registrarKeyPath)
            let genesis = try EventEnvelope.sign(body: Self.genesisBody(origin: signer.name, registrar: registrar,
                                                                        logKey: signer.verifier.encoded, at: clock()),
                                                 with: registrar.signingKey())
            let result = await ledger.submit(genesis)
            if case .failure(let error) = result { throw error }
            logger.info("created log", metadata: ["log.origin": "\(signer.name)", "log.vkey": "\(signer.verifier.encoded)"])
        }
        if keyPath == pendingKeyPath {
            // The genesis is committed: the initialisation is complete.
            guard rename(pendingKeyPath, logKeyPath) == 0 else {
                throw DataDirectoryError("cannot rename \(pendingKeyPath) to \(logKeyPath): \(String(cString: strerror(errno)))")
            }
            SecureFile.syncDirectory(of: logKeyPath)
        }
        ledger.hold(lock)
        return (ledger, fresh)
    }

    static func genesisBody(origin: String, registrar: KeyFile, logKey: String, at millis: Int64) -> JSONObject {
        JSONObject([
            ("type", .string(Genesis.type)),
            ("schemaVersion", .integer(1)),
            ("signer", .string(registrar.participant)),
            ("occurredAt", .string(RFC3339.format(millis: millis))),
            ("nonce", .string(Hex.encode(secureRandomBytes(16)))),
            ("origin", .string(origin)),
            ("registrar", .object(JSONObject([
                ("participant", .string(registrar.participant)),
                ("publicKey", .string(registrar.publicKey)),
            ]))),
            ("logKey", .string(logKey)),
        ])
    }
}

/// The data directory is in a state the daemon will not start from.
public struct DataDirectoryError: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// An exclusive `flock(2)` on a file in the data directory, held while a ledger is open: a second daemon on the
/// same directory is refused at start. The kernel releases it if the process dies.
final class DirectoryLock: Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DataDirectoryError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw DataDirectoryError("another custodyd has \((path as NSString).deletingLastPathComponent) open (\(path) is locked)")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
