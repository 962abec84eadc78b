import CustodyModel
import Foundation

/// A sourcing policy: a versioned data file naming rules of the engine with their parameters
/// (`Schemas/policies/*.json`, schema `policy.schema.json`). Users add their own by writing a file; the
/// registrar can publish one in the log (`policy.publish` with the policy's name), which supersedes the file
/// from that index on.
public struct Policy: Sendable {
    /// Name, e.g. `kp-expanded`.
    public let name: String
    /// Version string of the file (or `log@INDEX` when published in the log).
    public let version: String
    /// One-line title.
    public let title: String
    /// Rules in order, with the rules of the policy it extends first.
    public let rules: [RuleSpec]

    /// One rule of the engine and its parameters.
    public struct RuleSpec: Sendable {
        /// Engine rule name (see `PolicyEngine.ruleNames`).
        public let rule: String
        /// Status a violation gives (`non-compliant`, `at-risk` or `unverified`); nil = the rule's default.
        public let outcome: SourcingStatus?
        /// The rule's parameters.
        public let parameters: JSONObject
    }

    /// Parses a policy document; `resolve` loads a policy it `extends`.
    public init(json: JSONObject, resolve: (String) throws -> Policy) throws {
        func field(_ key: String) throws -> String {
            guard let s = json[key]?.stringValue, !s.isEmpty else { throw PolicyError("policy document lacks \"\(key)\"") }
            return s
        }
        name = try field("policy")
        version = try field("version")
        title = json["title"]?.stringValue ?? name
        var rules: [RuleSpec] = []
        if let base = json["extends"]?.stringValue { rules = try resolve(base).rules }
        for (i, value) in (json["rules"]?.arrayValue ?? []).enumerated() {
            guard let o = value.objectValue, let rule = o["rule"]?.stringValue else {
                throw PolicyError("policy \(name): rules/\(i) needs a \"rule\"")
            }
            guard PolicyEngine.ruleNames.contains(rule) else {
                throw PolicyError("policy \(name): rules/\(i): unknown rule \"\(rule)\" (known: \(PolicyEngine.ruleNames.sorted().joined(separator: ", ")))")
            }
            var outcome: SourcingStatus?
            if let text = o["outcome"]?.stringValue {
                guard let s = SourcingStatus(rawValue: text), s != .compliant else {
                    throw PolicyError("policy \(name): rules/\(i): outcome must be non-compliant, at-risk or unverified")
                }
                outcome = s
            }
            rules.append(RuleSpec(rule: rule, outcome: outcome, parameters: o["parameters"]?.objectValue ?? JSONObject()))
        }
        guard !rules.isEmpty else { throw PolicyError("policy \(name) has no rules") }
        self.rules = rules
    }
}

/// A policy or its reference data could not be loaded.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The verdict on a parcel under a policy, worst first in `severity`.
public enum SourcingStatus: String, Sendable, CaseIterable, Comparable {
    /// Every rule holds.
    case compliant
    /// A red flag: the policy asks for further diligence.
    case atRisk = "at-risk"
    /// A gap in the record stops a judgement.
    case unverified
    /// A rule is broken.
    case nonCompliant = "non-compliant"

    var severity: Int {
        switch self {
        case .compliant: 0
        case .atRisk: 1
        case .unverified: 2
        case .nonCompliant: 3
        }
    }

    /// Ordered by severity.
    public static func < (a: SourcingStatus, b: SourcingStatus) -> Bool { a.severity < b.severity }
}

/// Policies and reference data: the files shipped with the engine (`Schemas/policies`), a user's directory,
/// and what the registrar published in the log, in that order of precedence from last to first.
public struct PolicyLibrary: Sendable {
    private let documents: [String: JSONObject]
    private let reference: [String: JSONObject]

    /// Loads the built-in files, then `directory`'s (same names replace built-ins).
    public init(directory: String? = nil) throws {
        var documents: [String: JSONObject] = [:]
        var reference: [String: JSONObject] = [:]
        var dirs: [URL] = []
        if let builtIn = Bundle.module.url(forResource: "Policies", withExtension: nil) { dirs.append(builtIn) }
        if let directory {
            // A directory that is not there would otherwise add nothing, silently.
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw PolicyError("policy directory \(directory) does not exist or is not a directory")
            }
            dirs.append(URL(fileURLWithPath: directory))
        }
        for dir in dirs {
            for (sub, isReference) in [("", false), ("reference", true)] {
                let folder = sub.isEmpty ? dir : dir.appendingPathComponent(sub)
                // reference/ is optional; the directory itself was checked above.
                guard sub.isEmpty || FileManager.default.fileExists(atPath: folder.path) else { continue }
                let files: [String]
                do { files = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
                    throw PolicyError("cannot list policy directory \(folder.path): \(error.localizedDescription)")
                }
                for file in files.sorted() where file.hasSuffix(".json") && !file.hasSuffix(".schema.json") {
                    let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(file)))
                    guard case .object(let o)? = try? JSONParser.parse(bytes) else {
                        throw PolicyError("\(folder.path)/\(file) is not a JSON object")
                    }
                    if isReference {
                        guard let name = o["dataset"]?.stringValue else { throw PolicyError("\(file): reference data needs \"dataset\"") }
                        reference[name] = o
                    } else {
                        guard let name = o["policy"]?.stringValue else { throw PolicyError("\(file): a policy needs \"policy\"") }
                        documents[name] = o
                    }
                }
            }
        }
        self.documents = documents
        self.reference = reference
    }

    /// Names of the policies available without the log.
    public var policyNames: [String] { documents.keys.sorted() }

    /// The policy `name` as of the log view `q`: a policy the registrar published in the log wins.
    public func policy(_ name: String, in q: ProjectionQueries) throws -> Policy {
        try resolve(name, q, depth: 0)
    }

    private func resolve(_ name: String, _ q: ProjectionQueries, depth: Int) throws -> Policy {
        guard depth < 8 else { throw PolicyError("policy \(name): extends goes deeper than 8 levels") }
        if let published = try q.publishedData("policy/\(name)") {
            var doc = published.data
            doc.set("policy", .string(name))
            doc.set("version", .string("log@\(published.index)"))
            return try Policy(json: doc) { try resolve($0, q, depth: depth + 1) }
        }
        guard let doc = documents[name] else {
            throw PolicyError("unknown policy \"\(name)\" (available: \(policyNames.joined(separator: ", ")))")
        }
        return try Policy(json: doc) { try resolve($0, q, depth: depth + 1) }
    }

    /// Reference dataset `name` as of `q`: what the registrar published in the log (`policy.publish` with
    /// policy = the dataset's name) from its index on, else the shipped file. Returns the data, where it came
    /// from, and the log index when published.
    public func dataset(_ name: String, in q: ProjectionQueries) throws -> (data: JSONObject, source: String, index: UInt64?) {
        if let published = try q.publishedData(name) {
            return (published.data, "published in the log at index \(published.index) (version \(published.version))", published.index)
        }
        guard let file = reference[name] else { return (JSONObject(), "no data", nil) }
        let version = file["version"]?.stringValue ?? "?"
        let year = file["year"]?.int64Value.map { ", year \($0)" } ?? ""
        return (file["data"]?.objectValue ?? JSONObject(), "reference file \(name).json (version \(version)\(year); its source note says where it comes from)", nil)
    }
}
