import CustodyServer
import Foundation
import Logging
import Testing

@Suite("Daemon configuration")
struct ConfigurationTests {
    @Test("flags override the environment, which overrides the config file; defaults fill the rest")
    func layering() throws {
        let path = NSTemporaryDirectory() + "custodyd-\(UUID().uuidString).json"
        try Data(#"{"dataDir":"/srv/file","listen":"0.0.0.0:9000","origin":"file.example/log","logLevel":"debug"}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let c = try ServerConfiguration.resolve([
            try .file(path),
            try .environment(["CUSTODY_LISTEN": "127.0.0.1:7000", "CUSTODY_MAX_BODY_BYTES": "4096"]),
            .init(dataDir: "/srv/flag"),
        ])
        #expect(c.dataDir == "/srv/flag")
        #expect(c.host == "127.0.0.1" && c.port == 7000)
        #expect(c.origin == "file.example/log")
        #expect(c.maxBodyBytes == 4096)
        #expect(c.logLevel == .debug)
        let defaults = try ServerConfiguration.resolve([])
        #expect(defaults.dataDir == "./data" && defaults.host == "127.0.0.1" && defaults.port == 8080)
        #expect(try ServerConfiguration.parseListen("[::1]:8443") == ("::1", 8443))
    }

    @Test("malformed settings are refused with the setting named")
    func refusals() throws {
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.resolve([.init(listen: "localhost")]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.resolve([.init(listen: "h:99999")]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.resolve([.init(origin: "has space")]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.resolve([.init(origin: "")]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.resolve([.init(logLevel: "loud")]) }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.Layer.environment(["CUSTODY_MAX_BODY_BYTES": "lots"]) }
        do {
            _ = try ServerConfiguration.resolve([.init(listen: "localhost")])
        } catch let error as ConfigurationError {
            #expect(error.description.contains("localhost"))
        }
    }

    @Test("an unknown config file key or CUSTODY_ variable is refused, naming it and the known ones")
    func unknownSettings() throws {
        let path = NSTemporaryDirectory() + "custodyd-\(UUID().uuidString).json"
        try Data(#"{"origin":"file.example/log","lisen":"127.0.0.1:18490"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try ServerConfiguration.Layer.file(path)
        } throws: { error in
            let text = "\(error)"
            return error is ConfigurationError && text.contains(#"unknown key "lisen""#) && text.contains("listen") && text.contains("policyDir")
        }
        #expect {
            try ServerConfiguration.Layer.environment(["CUSTODY_LISEN": "127.0.0.1:18490", "CUSTODY_ORIGIN": "x.example/log"])
        } throws: { error in
            "\(error)".contains("CUSTODY_LISEN") && "\(error)".contains("CUSTODY_LISTEN")
        }
        // Other variables are none of the daemon's business; every known one is taken.
        let known = Dictionary(uniqueKeysWithValues: ServerConfiguration.settingNames.map { ($0.environment, "1024") })
        _ = try ServerConfiguration.Layer.environment(known.merging(["PATH": "/bin", "CUSTODYX": "1"]) { a, _ in a })
        try Data(#"{"dataDir":"/srv","listen":"0.0.0.0:1","origin":"o","maxBodyBytes":2048,"logLevel":"info","policyDir":"/p"}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        #expect(try ServerConfiguration.Layer.file(path).policyDir == "/p")
    }

    @Test("a policy directory that does not exist is refused at start, before the data directory is created")
    func missingPolicyDirectory() async throws {
        var configuration = ServerConfiguration()
        configuration.dataDir = NSTemporaryDirectory() + "custody-it-\(UUID().uuidString)"
        configuration.port = 0
        configuration.policyDir = "/nonexistent/policies"
        await #expect {
            _ = try await buildApplication(configuration: configuration, logger: Logger(label: "it"))
        } throws: { error in
            "\(error)".contains("/nonexistent/policies") && "\(error)".contains("does not exist")
        }
        #expect(!FileManager.default.fileExists(atPath: configuration.dataDir))
    }
}
