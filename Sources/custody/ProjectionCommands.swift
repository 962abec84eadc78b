import ArgumentParser
import CustodyClient
import CustodyLedger
import CustodyModel
import Foundation

/// Pretty-prints a JSON value (canonical key order, two-space indent) for `--json`.
func prettyJSON(_ value: JSONValue) -> String {
    func render(_ v: JSONValue, _ indent: String) -> String {
        switch v {
        case .object(let o) where !o.isEmpty:
            let inner = indent + "  "
            let members = o.keys.sorted(by: CanonicalJSON.keyPrecedes).map { key in
                inner + String(decoding: CanonicalJSON.encode(.string(key)), as: UTF8.self) + ": " + render(o[key]!, inner)
            }
            return "{\n" + members.joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let a) where !a.isEmpty:
            let inner = indent + "  "
            return "[\n" + a.map { inner + render($0, inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        default:
            return String(decoding: CanonicalJSON.encode(v), as: UTF8.self)
        }
    }
    return render(value, "")
}

/// Carats from points, exactly: 1 ct = 100 points.
func caratText(_ points: Int64) -> String {
    let whole = points / 100, frac = points % 100
    return "\(whole).\(frac < 10 ? "0" : "")\(frac) ct"
}

extension Custody {
    struct ProvenanceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "provenance",
            abstract: "Show where a parcel or stone came from: custody chain, lineage and origin composition.")
        @Argument(help: "Parcel or stone id.") var parcel: String
        @OptionGroup var server: ServerOptions
        @Option(name: .customLong("as-of"), parsing: .unconditional, help: "Answer as the log stood at this tree size.") var asOf: UInt64?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let p: JSONObject
            do { p = try await server.client().provenance(parcel, asOf: asOf) } catch let error as ClientError {
                throw failure(error)
            }
            if json { print(prettyJSON(.object(p))); return }
            let points = p["carats"]?.int64Value ?? 0
            print("\(parcel): \(p["form"]?.stringValue ?? "?") \(caratText(points)), \(p["stones"]?.int64Value ?? 0) stone(s), \(p["status"]?.stringValue ?? "?"), custodian \(p["custodian"]?.stringValue ?? "?")  (as of tree size \(p["asOf"]?.int64Value ?? 0))")
            print("origin:")
            for case .object(let s) in p["origin"]?.arrayValue ?? [] {
                let place = s["site"]?.stringValue.map { "site \($0)" } ?? "declared on a KP certificate, no extraction in the log"
                let date = s["extractedOn"]?.stringValue.map { ", extracted \($0)" } ?? ""
                print("  \(s["approx"]?.stringValue ?? "?")  (\(s["share"]?.stringValue ?? "?"))  \(s["country"]?.stringValue ?? "mixed")  \(place)\(date)  [root \(s["root"]?.stringValue ?? "?") at index \(s["recordedAt"]?.int64Value ?? 0)]")
            }
            print("custody:")
            for case .object(let c) in p["custody"]?.arrayValue ?? [] {
                let indexes = (c["indexes"]?.arrayValue ?? []).compactMap(\.int64Value).map(String.init).joined(separator: ", ")
                print("  \(c["custodian"]?.stringValue ?? "?")  from index \(c["from"]?.int64Value ?? 0)  (events \(indexes))")
            }
            let lineage = p["lineage"]?.arrayValue ?? []
            print("lineage: \(lineage.isEmpty ? "none (entered the log as it is)" : "")")
            for case .object(let a) in lineage {
                let depth = Int(a["depth"]?.int64Value ?? 1)
                print("  " + String(repeating: "  ", count: depth - 1) + "\(a["parcel"]?.stringValue ?? "?")  → \(a["child"]?.stringValue ?? "?") by \(a["via"]?.stringValue ?? "?") at index \(a["index"]?.int64Value ?? 0)")
            }
        }
    }

    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Judge a parcel or stone under a sourcing policy, with the reasons and the log indexes behind them.",
            discussion: "Policies: kp-core, kp-expanded, g7-russia, oecd-red-flags (and any the daemon was given with --policy-dir).")
        @Argument(help: "Parcel or stone id.") var parcel: String
        @OptionGroup var server: ServerOptions
        @Option(help: "Policy name.") var policy: String
        @Option(name: .customLong("as-of"), parsing: .unconditional, help: "Judge as the log stood at this tree size.") var asOf: UInt64?
        @Option(help: "Date (YYYY-MM-DD) for time-dependent rules; default the parcel's latest event.") var date: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let r: JSONObject
            do { r = try await server.client().status(parcel, policy: policy, asOf: asOf, date: date) } catch let error as ClientError {
                throw failure(error)
            }
            if json { print(prettyJSON(.object(r))); return }
            print("\(parcel) under \(r["policy"]?.stringValue ?? policy) (\(r["policyVersion"]?.stringValue ?? "")): \(r["status"]?.stringValue ?? "?")  (as of tree size \(r["asOf"]?.int64Value ?? 0), judged on \(r["date"]?.stringValue ?? "?"))")
            for case .object(let reason) in r["reasons"]?.arrayValue ?? [] {
                let indexes = (reason["indexes"]?.arrayValue ?? []).compactMap(\.int64Value).map(String.init).joined(separator: ", ")
                print("  \(reason["outcome"]?.stringValue ?? "?")  [\(reason["rule"]?.stringValue ?? "?")] \(reason["message"]?.stringValue ?? "")  (log indexes \(indexes))")
            }
            if case .object(let sources)? = r["sources"], !sources.isEmpty {
                for (name, source) in sources { print("  data \(name): \(source.stringValue ?? "")") }
            }
        }
    }

    struct StatusListCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "statuses",
            abstract: "List parcels by status under a sourcing policy (paged: --after resumes).")
        @OptionGroup var server: ServerOptions
        @Option(help: "Policy name.") var policy: String
        @Option(help: "Only this status: compliant, at-risk, unverified or non-compliant.") var status: String?
        @Option(help: "Start after this parcel id.") var after: String?
        @Option(parsing: .unconditional, help: "Most parcels to list.") var limit: Int = 100
        @Option(name: .customLong("as-of"), parsing: .unconditional, help: "As the log stood at this tree size.") var asOf: UInt64?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let page: JSONObject
            do {
                page = try await server.client().statusPage(policy: policy, status: status, after: after, limit: limit, asOf: asOf)
            } catch let error as ClientError {
                throw failure(error)
            }
            if json { print(prettyJSON(.object(page))); return }
            for case .object(let item) in page["items"]?.arrayValue ?? [] {
                print("\(item["parcel"]?.stringValue ?? "?")  \(item["status"]?.stringValue ?? "?")  (\(item["reasons"]?.int64Value ?? 0) reason(s))")
            }
            if let next = page["next"]?.stringValue { print("… more: --after \(next)") }
        }
    }
}

/// A client error that names the server's problem, printed without the usage text.
func failure(_ error: ClientError) -> any Error {
    CommandFailure(error.problem.map { "\($0.title): \($0.detail)\($0.parameter.map { " (parameter \($0))" } ?? "")" } ?? "\(error)")
}
