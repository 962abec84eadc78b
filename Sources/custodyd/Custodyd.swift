import ArgumentParser
import CustodyServer
import Hummingbird
import Logging

/// `custodyd`: the Custody Ledger daemon. Thin: resolves settings and runs `buildApplication`.
@main
struct Custodyd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custodyd",
        abstract: "Custody Ledger daemon: a signed, hash-chained, Merkle-tree log of diamond custody events.",
        discussion: """
            Settings come from --config FILE (JSON: dataDir, listen, origin, maxBodyBytes, logLevel, policyDir), then the \
            environment (CUSTODY_DATA_DIR, CUSTODY_LISTEN, CUSTODY_ORIGIN, CUSTODY_MAX_BODY_BYTES, \
            CUSTODY_LOG_LEVEL, CUSTODY_POLICY_DIR), then these flags, each overriding the one before; another key in the \
            file, or another CUSTODY_ variable, is refused. On first start with an empty data directory it creates \
            the database, the log key, the registrar key and the genesis entry.
            """)

    @Option(help: "Data directory (default ./data).") var dataDir: String?
    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:8080).") var listen: String?
    @Option(help: "Checkpoint origin, used when the log is created (default localhost/custody-ledger).") var origin: String?
    @Option(help: "JSON config file.") var config: String?
    @Option(help: "Largest request body in bytes (default 16 MiB).") var maxBodyBytes: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).") var logLevel: String?
    @Option(help: "Log format: json (one object per line) or text.") var logFormat: String = "json"
    @Option(help: "Directory of extra sourcing-policy files (and reference/ data) beside the built-in ones.") var policyDir: String?

    func validate() throws {
        guard ["json", "text"].contains(logFormat) else { throw ValidationError("--log-format must be json or text") }
    }

    func run() async throws {
        var layers: [ServerConfiguration.Layer] = []
        if let config { layers.append(try .file(config)) }
        layers.append(try .environment())
        layers.append(.init(dataDir: dataDir, listen: listen, origin: origin, maxBodyBytes: maxBodyBytes, logLevel: logLevel,
                            policyDir: policyDir))
        let settings = try ServerConfiguration.resolve(layers)
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "custodyd")
        let app = try await buildApplication(configuration: settings, logger: logger)
        try await app.runService()
    }
}


