import CustodyDomain
import CustodyModel
import Foundation
import Testing

/// The rules validate bodies by hand; the schemas in Schemas/ describe the same bodies for machines. These tests
/// hold the two to one verdict: on the worked examples, and on the cases of Schemas/catalogue-cases.json, which
/// Schemas/check.py also runs against the schemas.
@Suite("Schemas and rules agree")
struct SchemaAgreementTests {
    /// One case of Schemas/catalogue-cases.json: an example with a JSON Patch applied.
    struct Case: CustomStringConvertible {
        let example: String
        let what: String
        let body: JSONObject
        /// Where an invalid body is refused, and by which rule (`number-out-of-range`: by the parser, before the rules).
        let pointer: String?
        let rule: String

        var description: String { "\(example): \(what)" }
    }

    static func cases(_ kind: String) throws -> [Case] {
        let examples = Dictionary(uniqueKeysWithValues: try SchemaFiles.eventExamples().map { ($0.name, JSONValue.object($0.body)) })
        guard let list = try SchemaFiles.read("catalogue-cases.json")[kind]?.arrayValue else { return [] }
        return try list.map { c in
            let example = c["example"]?.stringValue ?? "", what = c["what"]?.stringValue ?? ""
            let patched = try JSONPatch.apply(c["patch"]?.arrayValue ?? [], to: try #require(examples[example], "no example \(example)"))
            return Case(example: example, what: what, body: try #require(patched.objectValue), pointer: c["pointer"]?.stringValue,
                        rule: c["rule"]?.stringValue ?? "schema")
        }
    }

    @Test("every event type has a worked example, which validates against its schema and is accepted by the rules")
    func examples() throws {
        let examples = try SchemaFiles.eventExamples()
        #expect(Set(examples.map(\.name)) == Set(Catalogue.fields.keys.map { $0.replacingOccurrences(of: ".", with: "-") }))
        for (name, body) in examples {
            let (world, index) = ExampleWorld.judging(name)
            if case .failure(let violation) = world.judge(body, at: index) {
                Issue.record("examples/\(name).json is refused: \(violation) at \(violation.pointer ?? "-")")
            }
        }
        guard SchemaValidator.available else { return }  // needs python3 with jsonschema
        let failures = try SchemaValidator.validate(examples.map { ($0.name, $0.name, CanonicalJSON.encode(.object($0.body))) })
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test("each valid variant of Schemas/catalogue-cases.json is accepted by the rules (and by its schema, in check.py)")
    func validVariants() throws {
        let cases = try Self.cases("valid")
        #expect(!cases.isEmpty)
        for c in cases {
            let (world, index) = ExampleWorld.judging(c.example)
            if case .failure(let violation) = world.judge(c.body, at: index) {
                Issue.record("\(c) is refused: \(violation) at \(violation.pointer ?? "-")")
            }
        }
    }

    @Test("each invalid body of Schemas/catalogue-cases.json is refused by the rules at the pointer it names, and by its schema there or above")
    func invalidBodies() throws {
        let cases = try Self.cases("invalid")
        #expect(cases.count > 100)
        for c in cases {
            let canonical = CanonicalJSON.encode(.object(c.body))
            if c.rule == "number-out-of-range" {
                // Refused while parsing, before the rules (protocol.md, "Encodings").
                #expect(throws: JSONParseError.self, "\(c)") { try JSONParser.parse(canonical) }
                continue
            }
            let (world, index) = ExampleWorld.judging(c.example)
            switch world.judge(c.body, at: index) {
            case .success:
                Issue.record("\(c) is accepted")
            case .failure(let violation):
                #expect(violation.rule == c.rule && violation.pointer == c.pointer,
                        "\(c): refused by \(violation.rule) at \(violation.pointer ?? "-") (\(violation.detail)); the case says \(c.rule) at \(c.pointer ?? "-")")
                if c.rule.hasPrefix("schema") { #expect(violation.category == .invalid, "\(c)") }
            }
        }
        guard SchemaValidator.checksURIs else { return }  // needs python3 with jsonschema and rfc3986-validator
        let lines = try SchemaValidator.validate(cases.enumerated().map { i, c in
            ("case \(i)", c.example, CanonicalJSON.encode(.object(c.body)))
        })
        for (i, c) in cases.enumerated() {
            // Each line is `case <i>: <path>: <message>`; the schema must refuse, at the pointer or above it.
            let paths = lines.filter { $0.hasPrefix("case \(i): ") }.map { line in
                String(line.dropFirst("case \(i): ".count).prefix { $0 != ":" })
            }
            #expect(!paths.isEmpty, "\(c): the schema accepts it")
            let pointer = (c.pointer ?? "/body").dropFirst("/body".count)
            for path in paths {
                let at = path.isEmpty ? "" : "/" + path
                #expect(pointer == at || pointer.hasPrefix(at + "/"), "\(c): the schema refuses it at \(at), not at or above \(pointer)")
            }
        }
    }
}
