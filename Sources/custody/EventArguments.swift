import ArgumentParser
import CustodyClient
import CustodyCrypto
import CustodyDomain
import CustodyLedger
import Foundation

/// A weight given as decimal carats (`--carats 1520.50`) or as integer points (`--points 152050`).
struct WeightOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Weight in carats, at most 2 decimals, e.g. 1520.50 (1 ct = 100 points).") var carats: String?
    @Option(parsing: .unconditional, help: "Weight in points (1 ct = 100 points), instead of --carats.") var points: Int64?

    func validate() throws { _ = try optional() }

    /// The weight in points, or nil when neither option is given.
    func optional() throws -> Int64? {
        switch (carats, points) {
        case (nil, nil): return nil
        case (let text?, nil): return try caratsArgument(text, flag: "--carats")
        case (nil, let n?):
            guard n >= 1 else { throw ValidationError("--points \(n): must be positive") }
            return n
        case (.some, .some): throw ValidationError("give --carats or --points, not both")
        }
    }

    /// The weight in points; one of the options is required.
    func required() throws -> Int64 {
        guard let points = try optional() else { throw ValidationError("give the weight with --carats (e.g. 1520.50) or --points") }
        return points
    }
}

/// Points for a carat weight given to `flag`, with an error that names the flag and the rule.
func caratsArgument(_ text: String, flag: String) throws -> Int64 {
    do { return try ExactDecimal.points(carats: text) } catch { throw ValidationError("\(flag) \(text): \(error)") }
}

/// Micro-degrees for decimal degrees given to `flag`.
func degreesArgument(_ text: String, flag: String) throws -> Int64 {
    do { return try ExactDecimal.microDegrees(text) } catch { throw ValidationError("\(flag) \(text): \(error)") }
}

/// US cents for decimal dollars given to `flag`.
func dollarsArgument(_ text: String, flag: String) throws -> Int64 {
    do { return try ExactDecimal.cents(dollars: text) } catch { throw ValidationError("\(flag) \(text): \(error)") }
}

/// A weight inside a compound value: decimal carats, or points with a `pt` suffix (`75000pt`).
func weightComponent(_ text: String, flag: String, whole: String) throws -> Int64 {
    if text.hasSuffix("pt") {
        guard let n = Int64(text.dropLast(2)), n >= 1 else { throw ValidationError("\(flag) \(whole): \(text) is not a whole number of points") }
        return n
    }
    do { return try ExactDecimal.points(carats: text.hasSuffix("ct") ? String(text.dropLast(2)) : text) } catch {
        throw ValidationError("\(flag) \(whole): carats \(text): \(error)")
    }
}

/// `ID=CARATS,STONES`, e.g. `BW-1-A=750.00,2500` or `BW-1-A=75000pt,2500`.
func lotArgument(_ text: String, flag: String) throws -> EventDraft.Lot {
    let (id, rest) = try splitAssignment(text, flag: flag, format: "ID=CARATS,STONES, e.g. LOT-A=750.00,2500")
    let parts = rest.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2 else { throw ValidationError("\(flag) \(text): expected ID=CARATS,STONES, e.g. LOT-A=750.00,2500") }
    guard let stones = Int64(parts[1]), stones >= 1 else { throw ValidationError("\(flag) \(text): stones \(parts[1]) is not a positive whole number") }
    return EventDraft.Lot(parcel: id, carats: try weightComponent(parts[0], flag: flag, whole: text), stones: stones)
}

/// `ID=CARATS`, e.g. `S1=0.90` or `S1=90pt`.
func stoneArgument(_ text: String, flag: String) throws -> EventDraft.Stone {
    let (id, rest) = try splitAssignment(text, flag: flag, format: "ID=CARATS, e.g. STONE-1=0.90")
    return EventDraft.Stone(stone: id, carats: try weightComponent(rest, flag: flag, whole: text))
}

/// `KEY=VALUE`, split at the first `=` (ids never contain one).
func splitAssignment(_ text: String, flag: String, format: String) throws -> (String, String) {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw ValidationError("\(flag) \(text): expected \(format)") }
    return (String(text[..<eq]).trimmingCharacters(in: .whitespaces), String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
}

/// Ids given as repeated options and/or comma-separated lists: `--parcels A,B --parcels C`.
func idList(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// A `YYYY-MM-DD` date given to `flag`.
func dateArgument(_ text: String, flag: String) throws -> String {
    guard Identifiers.isDate(text) else { throw ValidationError("\(flag) \(text): not a date YYYY-MM-DD") }
    return text
}

/// A value of a closed vocabulary given to `flag`.
func enumArgument<T: RawRepresentable & CaseIterable>(_ text: String, _ type: T.Type, flag: String) throws -> T where T.RawValue == String {
    guard let value = T(rawValue: text) else {
        throw ValidationError("\(flag) \(text): one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return value
}

/// Runs a builder, turning its error (which names the body field) into a usage error.
func build(_ make: () throws -> EventDraft) throws -> EventDraft {
    do { return try make() } catch let error as EventBuilderError { throw ValidationError("\(error)") }
}

/// Total weight and stones of parcels, read from the daemon, for options that default to them.
func parcelTotals(_ ids: [String], server: ServerOptions, needed: String) async throws -> (carats: Int64, stones: Int64) {
    let client = try server.client()
    var carats: Int64 = 0, stones: Int64 = 0
    for id in ids {
        do {
            let parcel = try await client.parcel(id)
            carats += parcel.carats
            stones += parcel.stones
        } catch {
            throw ValidationError("\(needed) (could not read parcel \(id) from \(server.server): \(error))")
        }
    }
    return (carats, stones)
}

/// Evidence held off the log: `--evidence-uri` and its hash, given or computed from a local copy.
struct EvidenceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the evidence is, e.g. https://audits.example.org/2026/jwaneng.pdf.", valueName: "uri"))
    var evidenceUri: String?
    @Option(help: ArgumentHelp("SHA-256 of the evidence, 64 lowercase hex.", valueName: "hex")) var evidenceSha256: String?
    @Option(help: ArgumentHelp("A local copy of the evidence, hashed here instead of --evidence-sha256.", valueName: "file"))
    var evidenceFile: String?

    /// The evidence, or nil when no option is given.
    func optional() throws -> EventDraft.Evidence? {
        guard evidenceUri != nil || evidenceSha256 != nil || evidenceFile != nil else { return nil }
        guard let uri = evidenceUri else { throw ValidationError("give --evidence-uri with --evidence-sha256 or --evidence-file") }
        switch (evidenceSha256, evidenceFile) {
        case (let hash?, nil): return EventDraft.Evidence(uri: uri, sha256: hash)
        case (nil, let file?): return EventDraft.Evidence(uri: uri, contents: [UInt8](try readInput(file)))
        case (nil, nil): throw ValidationError("give the evidence's hash with --evidence-sha256 or --evidence-file")
        case (.some, .some): throw ValidationError("give --evidence-sha256 or --evidence-file, not both")
        }
    }

    /// The evidence; required.
    func required() throws -> EventDraft.Evidence {
        guard let evidence = try optional() else {
            throw ValidationError("give the evidence with --evidence-uri and --evidence-sha256 (or --evidence-file)")
        }
        return evidence
    }
}
