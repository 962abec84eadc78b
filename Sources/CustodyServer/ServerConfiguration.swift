import CustodyModel
import Foundation
import Logging

/// The daemon's settings. Each is read from, in increasing precedence: a JSON config file, the
/// environment, command-line flags.
///
/// | setting | file key | environment | flag | default |
/// |---|---|---|---|---|
/// | data directory | `dataDir` | `CUSTODY_DATA_DIR` | `--data-dir` | `./data` |
/// | listen address | `listen` | `CUSTODY_LISTEN` | `--listen` | `127.0.0.1:8080` |
/// | checkpoint origin | `origin` | `CUSTODY_ORIGIN` | `--origin` | `localhost/custody-ledger` |
/// | request body limit | `maxBodyBytes` | `CUSTODY_MAX_BODY_BYTES` | `--max-body-bytes` | 16 MiB |
/// | log level | `logLevel` | `CUSTODY_LOG_LEVEL` | `--log-level` | `info` |
/// | extra sourcing policies | `policyDir` | `CUSTODY_POLICY_DIR` | `--policy-dir` | none (built-in policies only) |
///
/// A file key or a `CUSTODY_` variable that is not in this table is refused, so that a misspelt setting is not
/// silently left at its default.
public struct ServerConfiguration: Sendable, Equatable {
    /// Each setting's file key and environment variable, as in the table above.
    public static let settingNames: [(fileKey: String, environment: String)] = [
        ("dataDir", "CUSTODY_DATA_DIR"), ("listen", "CUSTODY_LISTEN"), ("origin", "CUSTODY_ORIGIN"),
        ("maxBodyBytes", "CUSTODY_MAX_BODY_BYTES"), ("logLevel", "CUSTODY_LOG_LEVEL"), ("policyDir", "CUSTODY_POLICY_DIR"),
    ]

    /// Data directory.
    public var dataDir: String = "./data"
    /// Host to bind.
    public var host: String = "127.0.0.1"
    /// Port to bind (0 picks a free port).
    public var port: Int = 8080
    /// Checkpoint origin (used when the log is created).
    public var origin: String = "localhost/custody-ledger"
    /// Largest request body accepted.
    public var maxBodyBytes: Int = 16 << 20
    /// Log level.
    public var logLevel: Logger.Level = .info
    /// A directory of policy files (and `reference/` data) added to, or replacing, the built-in ones.
    public var policyDir: String?
    /// Whether a background thread keeps the projections in step with the log (reads catch up either way).
    /// The ledger-core benchmark turns it off to measure appends alone; the projections have their own.
    public var followProjections = true
    /// False opens the ledger without the custody rules (keys still checked), only so that `custody-bench` can
    /// measure what the rules cost over HTTP; such a log fails a full audit. Not settable from outside the package.
    package var enforcesCustodyRules = true

    /// The defaults.
    public init() {}

    /// Settings given as strings by one source; nil means "not set here".
    public struct Layer: Sendable, Equatable, Decodable {
        /// `dataDir`
        public var dataDir: String?
        /// `listen` as `HOST:PORT`
        public var listen: String?
        /// `origin`
        public var origin: String?
        /// `maxBodyBytes`
        public var maxBodyBytes: Int?
        /// `logLevel`
        public var logLevel: String?
        /// `policyDir`
        public var policyDir: String?

        /// A layer from explicit values.
        public init(dataDir: String? = nil, listen: String? = nil, origin: String? = nil,
                    maxBodyBytes: Int? = nil, logLevel: String? = nil, policyDir: String? = nil) {
            self.dataDir = dataDir
            self.listen = listen
            self.origin = origin
            self.maxBodyBytes = maxBodyBytes
            self.logLevel = logLevel
            self.policyDir = policyDir
        }

        /// The layer of `CUSTODY_*` environment variables; another variable with that prefix is refused.
        public static func environment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Layer {
            let known = settingNames.map(\.environment)
            if let unknown = env.keys.sorted().first(where: { $0.hasPrefix("CUSTODY_") && !known.contains($0) }) {
                throw ConfigurationError("unknown environment variable \(unknown); custodyd reads \(known.joined(separator: ", "))")
            }
            var max: Int?
            if let text = env["CUSTODY_MAX_BODY_BYTES"] {
                guard let value = Int(text) else { throw ConfigurationError("CUSTODY_MAX_BODY_BYTES \"\(text)\" is not a number") }
                max = value
            }
            return Layer(dataDir: env["CUSTODY_DATA_DIR"], listen: env["CUSTODY_LISTEN"], origin: env["CUSTODY_ORIGIN"],
                         maxBodyBytes: max, logLevel: env["CUSTODY_LOG_LEVEL"], policyDir: env["CUSTODY_POLICY_DIR"])
        }

        /// The layer of a JSON config file: an object whose members are file keys; any other member is refused.
        public static func file(_ path: String) throws -> Layer {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ConfigurationError("cannot read config file \(path): \(error.localizedDescription)")
            }
            // The decoder skips members it does not know; a misspelt key must not leave its setting at the default.
            guard case .object(let object)? = try? JSONParser.parse([UInt8](data)) else {
                throw ConfigurationError("config file \(path) is not a JSON object")
            }
            let known = settingNames.map(\.fileKey)
            if let unknown = object.keys.first(where: { !known.contains($0) }) {
                throw ConfigurationError("config file \(path): unknown key \"\(unknown)\"; the keys are \(known.joined(separator: ", "))")
            }
            do { return try JSONDecoder().decode(Layer.self, from: data) } catch {
                throw ConfigurationError("config file \(path) is not valid: \(error)")
            }
        }
    }

    /// Applies layers in order: later ones override earlier ones.
    public static func resolve(_ layers: [Layer]) throws -> ServerConfiguration {
        var c = ServerConfiguration()
        for layer in layers {
            if let v = layer.dataDir { c.dataDir = v }
            if let v = layer.listen { (c.host, c.port) = try parseListen(v) }
            if let v = layer.origin { c.origin = v }
            if let v = layer.maxBodyBytes { c.maxBodyBytes = v }
            if let v = layer.policyDir { c.policyDir = v }
            if let v = layer.logLevel {
                guard let level = Logger.Level(rawValue: v) else {
                    throw ConfigurationError("log level \"\(v)\" is not one of trace, debug, info, notice, warning, error, critical")
                }
                c.logLevel = level
            }
        }
        guard !c.origin.isEmpty, !c.origin.contains(where: { $0 == "+" || $0.isWhitespace }) else {
            throw ConfigurationError("origin \"\(c.origin)\" must be non-empty, without spaces or '+' (C2SP key name)")
        }
        guard c.maxBodyBytes >= 1024 else { throw ConfigurationError("maxBodyBytes must be at least 1024") }
        return c
    }

    /// `HOST:PORT`, with `[v6]:PORT` for IPv6.
    public static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port)
        else { throw ConfigurationError("listen address \"\(text)\" is not HOST:PORT") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigurationError("listen address \"\(text)\" has no host") }
        return (host, port)
    }
}

/// A setting is malformed.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
