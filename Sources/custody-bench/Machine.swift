import CSQLite
import CSodium
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the figures were measured on. Raw limits are only comparable on the same machine, so the report
/// names it precisely.
struct Machine: Sendable {
    var cpuModel: String
    var cores: Int
    var memoryGiB: Double
    var kernel: String
    var swiftCompiler: String
    var sqliteVersion: String
    var sodiumVersion: String
    /// Filesystem of the benchmark's working directory: fsync cost depends on it.
    var filesystem: String
    /// The code measured: git revision of the current directory, `+ uncommitted changes` when its sources or
    /// package manifest differ from it.
    var revision: String

    static func describe(workDirectory: String) -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Machine(
            cpuModel: model,
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30),
            kernel: "Linux \(release) \(machine)",
            swiftCompiler: compilerVersion,
            sqliteVersion: String(cString: sqlite3_libversion()),
            sodiumVersion: String(cString: sodium_version_string()),
            filesystem: filesystemName(workDirectory),
            revision: gitRevision())
    }

    /// The compiler that built this binary, known at compile time (running `swift --version` would need
    /// the toolchain on the PATH of the machine running the benchmark).
    private static var compilerVersion: String {
        #if compiler(>=6.4)
        return "Swift ≥ 6.4"
        #elseif compiler(>=6.3.1)
        return "Swift 6.3.1"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #else
        return "Swift < 6.2"
        #endif
    }

    /// `git rev-parse --short HEAD` of the working directory the benchmark was started from, if it is a
    /// checkout and git is installed; figures are only meaningful with the code they measured.
    private static func gitRevision() -> String {
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = git(["rev-parse", "--short", "HEAD"]) else { return "unknown (not run from a git checkout)" }
        // Only the code counts: an edited report or README does not change what was measured.
        let dirty = !(git(["status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift", "Package.resolved"]) ?? "").isEmpty
        return dirty ? "\(head) + uncommitted changes" : head
    }

    /// The type and device of the mount holding `path`: the longest mount point in /proc/mounts that
    /// is a prefix of it.
    private static func filesystemName(_ path: String) -> String {
        let resolved = (path as NSString).resolvingSymlinksInPath
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var best: (point: String, description: String)?
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 3 else { continue }
            let point = String(f[1])
            let covers = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
            if covers, point.count >= (best?.point.count ?? -1) {
                best = (point, "\(f[2]) (\(f[0]) mounted on \(point))")
            }
        }
        return best?.description ?? "unknown"
    }
}
