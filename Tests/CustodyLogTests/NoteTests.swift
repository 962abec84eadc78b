import CustodyCrypto
import CustodyLog
import Foundation
import Testing

struct NoteExample: Decodable, Sendable, CustomTestStringConvertible {
    let source: String
    let signerKey: String?
    let verifierKey: String
    let text: String
    let signatureLine: String
    var testDescription: String { source }
}

let noteExamples: [NoteExample] = {
    let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/signed-note-examples.json")
    return try! JSONDecoder().decode([NoteExample].self, from: Data(contentsOf: url))
}()

@Suite("C2SP signed-note and tlog-checkpoint")
struct NoteTests {
    @Test("published examples verify; signing reproduces their signature lines", arguments: noteExamples)
    func example(_ e: NoteExample) throws {
        let verifier = try NoteVerifier(encoded: e.verifierKey)
        #expect(verifier.encoded == e.verifierKey)
        let note = e.text + "\n" + e.signatureLine + "\n"
        #expect(try verifier.open(note) == e.text)
        if let signerKey = e.signerKey {
            let signer = try NoteSigner(encoded: signerKey)
            #expect(signer.encoded == signerKey)
            #expect(signer.verifier == verifier)
            #expect(signer.signatureLine(for: e.text) == e.signatureLine + "\n")
        }
        // Any change of the text breaks the signature.
        #expect(throws: NoteError.self) { try verifier.open(e.text + "x\n" + "\n" + e.signatureLine + "\n") }
    }

    @Test("checkpoints sign, parse and reject tampering")
    func checkpoint() throws {
        let signer = try NoteSigner(name: "example.org/custody", key: SigningKey.generate())
        let root = SHA256.hash(Array("root".utf8))
        let cp = Checkpoint(origin: "example.org/custody", size: 42, root: root)
        let note = try cp.signed(by: signer)
        #expect(note.hasPrefix("example.org/custody\n42\n\(Base64.encode(root))\n\n\u{2014} example.org/custody "))
        #expect(try Checkpoint.open(note, verifier: signer.verifier) == cp)
        let forged = note.replacingOccurrences(of: "\n42\n", with: "\n43\n")
        #expect(throws: NoteError.self) { try Checkpoint.open(forged, verifier: signer.verifier) }
        let other = try NoteSigner(name: "example.org/custody", key: SigningKey.generate())
        #expect(throws: NoteError.self) { try Checkpoint.open(note, verifier: other.verifier) }
        #expect(throws: NoteError.self) { try Checkpoint(text: "origin\n042\n\(Base64.encode(root))\n") }
        #expect(throws: NoteError.self) { try NoteVerifier(encoded: "name+00000000+AQ==") }
    }
}
