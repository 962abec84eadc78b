import Foundation

/// Command-line settings. Sizes are flags so the same binary runs a one-minute smoke test (`--quick`) and
/// the full release benchmark (the defaults).
struct BenchOptions: Sendable {
    /// Entries in the large log (replay, proofs, memory).
    var entries = 1_000_000
    /// Pre-signed events timed through `Ledger.submit` in-process on a fresh log.
    var appends = 200_000
    /// In-process: concurrent submitting tasks and envelopes per `submit` call.
    var tasks = 8
    var batch = 512
    /// Events POSTed in JSON arrays of `httpBatchSize`, over `httpConnections` connections.
    var httpBatchEvents = 100_000
    var httpBatchSize = 1_000
    var httpConnections = 4
    /// Single-event POSTs: `clients` threads, each with its own connection, `perClient` events each.
    var clients = 64
    var perClient = 500
    /// Journeys of the realistic event mix (16 events each, plus registrations), run with and without the rules.
    var mixJourneys = 3_000
    /// Inclusion proofs timed in-process and over HTTP.
    var proofs = 10_000
    var httpProofs = 2_000
    /// Working directory (data directories, scratch databases); a fresh temporary one by default.
    var directory: String?
    /// Keep the working directory afterwards.
    var keep = false
    /// Also write the report here.
    var out: String?
    var quick = false

    static let usage = """
        usage: custody-bench [--quick] [--out FILE] [--dir DIR] [--keep]
                             [--entries N] [--appends N] [--tasks N] [--batch N]
                             [--http-batch-events N] [--http-batch-size N] [--http-connections N]
                             [--clients N] [--per-client N] [--mix-journeys N] [--proofs N] [--http-proofs N]
          --quick   small sizes (20,000-entry log) for a smoke test of about a minute
          defaults: a 1,000,000-entry log, 200,000 in-process appends (8 tasks x 512),
                    100,000 HTTP batch appends (4 connections x 1,000 per request),
                    64 clients x 500 single-event POSTs, 3,000 journeys of the event mix (rules on, then off),
                    10,000 + 2,000 inclusion proofs
        """

    /// Parses `arguments` (without the program name). `--quick` sets small defaults that later flags override.
    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        if arguments.contains("--quick") {
            options.quick = true
            options.entries = 20_000
            options.appends = 10_000
            options.httpBatchEvents = 10_000
            options.perClient = 50
            options.mixJourneys = 320
            options.proofs = 2_000
            options.httpProofs = 500
        }
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw BenchError("\(flag) needs a value\n\(usage)") }
            return v
        }
        func number(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0 else {
                throw BenchError("\(flag) \(text) is not a positive integer")
            }
            return n
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--quick": break
            case "--keep": options.keep = true
            case "--out": options.out = try value(flag)
            case "--dir": options.directory = try value(flag)
            case "--entries": options.entries = try number(flag)
            case "--appends": options.appends = try number(flag)
            case "--tasks": options.tasks = try number(flag)
            case "--batch": options.batch = try number(flag)
            case "--http-batch-events": options.httpBatchEvents = try number(flag)
            case "--http-batch-size": options.httpBatchSize = try number(flag)
            case "--http-connections": options.httpConnections = try number(flag)
            case "--clients": options.clients = try number(flag)
            case "--per-client": options.perClient = try number(flag)
            case "--mix-journeys": options.mixJourneys = try number(flag)
            case "--proofs": options.proofs = try number(flag)
            case "--http-proofs": options.httpProofs = try number(flag)
            case "-h", "--help": throw BenchError(usage)
            default: throw BenchError("unknown argument \(flag)\n\(usage)")
            }
        }
        let setup = 1 + 2 * EventFactory.participantCount
        guard options.entries >= setup + options.appends else {
            throw BenchError("--entries must be at least \(setup + options.appends) (genesis, \(EventFactory.participantCount) participants, their sites and --appends)")
        }
        guard options.httpBatchEvents % options.httpBatchSize == 0 else {
            throw BenchError("--http-batch-events must be a multiple of --http-batch-size")
        }
        return options
    }
}
