import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation
import Testing

/// The built `custodyd` executable, beside the test bundle in the build folder.
func builtExecutable(_ name: String) -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
    return dir.appendingPathComponent(name).path
}

/// A free loopback port (bound, read, released; the daemon binds it right after).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// custodyd as a child process.
struct DaemonProcess {
    let process: Process
    let client: LedgerClient

    static func start(dataDir: String) async throws -> DaemonProcess {
        let port = freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: builtExecutable("custodyd"))
        process.arguments = ["--data-dir", dataDir, "--listen", "127.0.0.1:\(port)", "--origin", "crash.example/log",
                             "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        // Its logs go to a file, never to the test runner's stderr: a daemon left behind holding that pipe
        // would keep `swift test` waiting for ever.
        let log = dataDir + ".stderr"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        let client = LedgerClient(baseURL: URL(string: "http://127.0.0.1:\(port)")!)
        // Generous: the whole suite runs in parallel on two cores beside this debug build.
        for _ in 0..<600 {
            if (try? await client.health()) != nil { return DaemonProcess(process: process, client: client) }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw DaemonStartError(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Sends SIGTERM and waits up to `limit` for the exit; SIGKILL after that. Whether it exited in time.
    func stop(within limit: Duration) async -> Bool {
        process.terminate()
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return false
    }
}

@Suite("custodyd as a process", .serialized)
struct ProcessTests {
    @Test("kill -9 during concurrent appends loses no acknowledged event; SIGTERM shuts down cleanly")
    func crash() async throws {
        let dataDir = NSTemporaryDirectory() + "custody-crash-\(UUID().uuidString)"
        var daemon = try await DaemonProcess.start(dataDir: dataDir)
        // Never leave a daemon behind when an expectation throws.
        var running = [daemon.process]
        defer { for p in running where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let registrar = try KeyFile.read(from: dataDir + "/registrar.key")
        let key = SigningKey.generate()
        _ = try await daemon.client.submit(envelope: Data(try registration("miner", key: key, registrar: registrar).leafInput))

        // Eight clients append as fast as they can; the daemon is killed while they are in flight.
        let client = daemon.client
        let pid = daemon.process.processIdentifier
        let deadline = ContinuousClock.now + .milliseconds(1500)
        let acknowledged = await withTaskGroup(of: [Receipt].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var mine: [Receipt] = []
                    while ContinuousClock.now < deadline {
                        guard let event = try? siteEvent("miner", key: key),
                              let receipt = try? await client.submit(envelope: Data(event.leafInput)) else { break }
                        mine.append(receipt)
                    }
                    return mine
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(1000))
                kill(pid, SIGKILL)
                return []
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationReason == .uncaughtSignal)
        #expect(acknowledged.count > 10)

        daemon = try await DaemonProcess.start(dataDir: dataDir)
        running.append(daemon.process)
        for receipt in acknowledged {
            let entry = try await daemon.client.entry(receipt.index)
            #expect(Base64.encode(entry.leafHash) == receipt.leafHash, "acknowledged entry \(receipt.index)")
        }
        let verifier = try NoteVerifier(encoded: String(contentsOfFile: dataDir + "/log.vkey", encoding: .utf8))
        let report = try await LogAuditor(source: RemoteAuditSource(client: daemon.client),
                                          options: AuditOptions(logKey: verifier)).run()
        #expect(report.treeSize >= UInt64(acknowledged.count) + 2)

        #expect(await daemon.stop(within: .seconds(10)), "SIGTERM: the daemon did not exit within 10 s")
        #expect(daemon.process.terminationReason == .exit)
        #expect(daemon.process.terminationStatus == 0)
    }
}
