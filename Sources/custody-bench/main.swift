import CustodyServer
import Foundation
import Logging

// custody-bench: measures the ledger against the raw limits of the machine it runs on, and prints a
// Markdown report (see BENCHMARKS.md); `custody-bench projections` measures provenance, status and rebuilds. `replay-child` and `idle-child` are internal subcommands: the
// benchmark re-executes itself to measure a replay's peak memory in a process of its own.

// Warnings only, and never on stdout, which carries the report. The daemon's own handler (`custodyd`'s
// default, JSON lines), so that the measured server spends on logging what a deployed one does.
LoggingSystem.bootstrap { label in
    var handler = JSONLogHandler(label: label)
    handler.logLevel = .warning
    return handler
}

let arguments = Array(CommandLine.arguments.dropFirst())
if let first = arguments.first, [ReplayChild.subcommand, ReplayChild.idleSubcommand].contains(first) {
    exit(await ReplayChild.childMain(arguments))
}
if let first = arguments.first, [ProfileCommand.appends, ProfileCommand.replay, ProfileCommand.http, ProfileCommand.proofs, ProfileCommand.parse].contains(first) {
    exit(await ProfileCommand.main(arguments))
}
if let first = arguments.first, [ProjectionBench.subcommand, ProjectionBench.childSubcommand].contains(first) {
    exit(await ProjectionBench.main(arguments))
}

do {
    let options = try BenchOptions.parse(arguments)
    let command = (["custody-bench"] + arguments).joined(separator: " ")
    let results = try await Benchmark(options: options, command: command).run()
    let report = Report(results: results)
    print(report.markdown())
    if let out = options.out { try report.write(to: out) }
} catch {
    FileHandle.standardError.write(Data("custody-bench: \(error)\n".utf8))
    exit(1)
}
