import CustodyLedger
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A replay (`LogAuditor` over `DatabaseAuditSource`) run in a child process, so its peak resident memory
/// is its own, without the parent's pre-signed events and ledger caches.
struct ReplayMeasurement: Sendable {
    /// Entries replayed and verified.
    var entries: UInt64
    /// Seconds of `LogAuditor.run()` inside the child (process start-up excluded).
    var seconds: Double
    /// Peak resident set of the child process, KiB: its `VmHWM`. Not `ru_maxrss` from `wait4`: on exec
    /// Linux folds the high-water mark of the pre-exec address space into `ru_maxrss`, and a spawned child's
    /// pre-exec address space is the parent's (vfork), so `ru_maxrss` reports at least the parent's size.
    var peakRSSKiB: Int

    var rate: Double { Double(entries) / seconds }
}

extension ReplayMeasurement {
    /// This pass and another over the same log as one figure, as `HTTPAppendOutcome.combined(with:)` does:
    /// their entries over their summed time (the mean time per pass here), and the higher of their peaks.
    func combined(with other: ReplayMeasurement) -> ReplayMeasurement {
        precondition(entries == other.entries, "passes over different logs")
        return ReplayMeasurement(entries: entries, seconds: (seconds + other.seconds) / 2,
                                 peakRSSKiB: max(peakRSSKiB, other.peakRSSKiB))
    }
}

enum ReplayChild {
    /// Hidden subcommand run by the child: `custody-bench replay-child DB RESULT` audits DB and writes
    /// `entries seconds peakKiB` to RESULT. `custody-bench idle-child RESULT` only starts and exits, giving
    /// the resident memory of the runtime and libraries alone.
    static let subcommand = "replay-child"
    static let idleSubcommand = "idle-child"

    /// The child side. Returns the process exit status.
    static func childMain(_ arguments: [String]) async -> Int32 {
        if arguments.first == idleSubcommand, arguments.count == 2 {
            do {
                try "0 0 \(peakResidentKiB())\n".write(toFile: arguments[1], atomically: true, encoding: .utf8)
                return 0
            } catch {
                return 1
            }
        }
        let logOnly = arguments.count == 4 && arguments[2] == logOnlyFlag
        guard arguments.count == 3 || logOnly else {
            FileHandle.standardError.write(Data("usage: custody-bench replay-child DB [\(logOnlyFlag)] RESULT\n".utf8))
            return 2
        }
        do {
            var options = AuditOptions()
            options.custodyRules = !logOnly
            let auditor = LogAuditor(source: try DatabaseAuditSource(path: arguments[1]), options: options)
            let (report, seconds) = try await timedAsync { try await auditor.run() }
            try "\(report.treeSize) \(seconds) \(peakResidentKiB())\n".write(toFile: arguments[arguments.count - 1], atomically: true,
                                                                            encoding: .utf8)
            return 0
        } catch {
            FileHandle.standardError.write(Data("replay failed: \(error)\n".utf8))
            return 1
        }
    }

    /// `replay-child`'s flag for an audit of the log alone, without the custody rules (`custody verify --log-only`).
    static let logOnlyFlag = "--log-only"

    /// Runs `replay-child` on `databasePath` and returns its timing and peak memory; with `logOnly`, the audit
    /// checks the log alone and does not re-run the custody rules.
    static func replay(databasePath: String, scratch: String, logOnly: Bool = false) async throws -> ReplayMeasurement {
        try await spawn([subcommand, databasePath] + (logOnly ? [logOnlyFlag] : []), scratch: scratch)
    }

    /// Peak memory of a child that does nothing: the floor under every replay figure.
    static func idleBaselineKiB(scratch: String) async throws -> Int {
        try await spawn([idleSubcommand], scratch: scratch).peakRSSKiB
    }

    private static func spawn(_ arguments: [String], scratch: String) async throws -> ReplayMeasurement {
        let resultPath = scratch + "/child-result-\(UUID().uuidString)"
        defer { unlink(resultPath) }
        let executable = try selfExecutable()
        let argv = [executable] + arguments + [resultPath]
        var cArgs = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, nil, nil, cArgs, environ)
        guard rc == 0 else { throw BenchError("posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        // wait4 blocks; do it on its own thread, never on the cooperative pool.
        let child = pid
        let status = await onThreads(1) { _ -> Int32 in
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            return status
        }[0]
        // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw BenchError("child \(arguments.joined(separator: " ")) failed (wait status \(status))")
        }
        let fields = try String(contentsOfFile: resultPath, encoding: .utf8).split(whereSeparator: \.isWhitespace)
        guard fields.count == 3, let entries = UInt64(fields[0]), let seconds = Double(fields[1]),
              let peakKiB = Int(fields[2])
        else { throw BenchError("child wrote an unreadable result") }
        return ReplayMeasurement(entries: entries, seconds: seconds, peakRSSKiB: peakKiB)
    }

    /// This process's peak resident set (`VmHWM` in /proc/self/status), KiB.
    private static func peakResidentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
        let fields = line.split(whereSeparator: \.isWhitespace)
        return fields.count >= 2 ? Int(fields[1]) ?? -1 : -1
    }

    /// This benchmark's own executable, so the child runs exactly the code being measured.
    private static func selfExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw BenchError("cannot read /proc/self/exe") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
