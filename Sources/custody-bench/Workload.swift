import CustodyCrypto
import CustodyLedger
import CustodyLog
import CustodyModel
import Foundation

/// Deterministic participants and realistic custody events. Keys derive from fixed seeds and every event
/// has a distinct sequence number in its nonce and ids, so no two events of one run collide and a run can be
/// repeated exactly.
///
/// Set-up registers `participantCount` miners and one site per miner. The timed events are `parcel.extract`
/// of new parcels at the signer's own site, the event every parcel's history starts with; any interleaving
/// of concurrent submitters keeps them valid under the custody rules.
struct EventFactory: Sendable {
    /// Participants registered by the benchmark; events rotate across their keys.
    static let participantCount = 64

    /// One signing key per participant.
    let keys: [SigningKey]

    init() {
        keys = (0..<Self.participantCount).map { i in
            try! SigningKey(seed: SHA256.hash(Array("custody-bench participant \(i)".utf8)))
        }
    }

    /// Participant id of participant `i`: `bench-mining-00` … `bench-mining-63`.
    static func participantID(_ i: Int) -> String { "bench-mining-" + pad(i, 2) }

    /// Site of participant `i`.
    static func siteID(_ i: Int) -> String { "BW-BENCH-SITE-" + pad(i, 2) }

    /// When the benchmark's events happened: a fixed time in the past, so that every run signs the same
    /// bytes and no event is in the log's future.
    static let epochMillis: Int64 = 1_780_000_000_000  // 2026-05-28

    /// The `participant.register` events of every participant, signed by the registrar.
    func registrations(registrar: SigningKey, registrarID: String) -> [EventEnvelope] {
        keys.enumerated().map { i, key in
            sign(Self.common("participant.register", signer: registrarID, nonce: "bench-register-" + Self.pad(i, 4), millis: 0) + [
                ("participant", .string(Self.participantID(i))),
                ("legalName", .string("Benchmark Mining Company \(i) (Proprietary) Limited")),
                ("country", .string("BW")),
                ("roles", .array([.string("miner"), .string("exporter")])),
                ("publicKeys", .array([.string(key.publicKey.base64)])),
            ], with: registrar)
        }
    }

    /// One `site.register` per participant, signed by the participant as operator.
    func sites() -> [EventEnvelope] {
        keys.indices.map { i in
            sign(Self.common("site.register", signer: Self.participantID(i), nonce: "bench-site-" + Self.pad(i, 4), millis: 1) + [
                ("site", .string(Self.siteID(i))),
                ("name", .string("Benchmark Pit \(i)")),
                ("country", .string("BW")),
                ("region", .string("Central District")),
                ("latE6", .integer(-21_300_000 - Int64(i) * 1_000)),
                ("lonE6", .integer(25_400_000 + Int64(i) * 1_000)),
                ("kind", .string("industrial")),
                ("operator", .string(Self.participantID(i))),
            ], with: keys[i])
        }
    }

    /// Event number `seq`: a `parcel.extract` of a new parcel at the site of participant `seq % 64`, signed by
    /// that participant, with a UUID-style nonce as clients generate them.
    func event(_ seq: Int) -> EventEnvelope {
        let p = seq % Self.participantCount
        let digest = Hex.encode(SHA256.hash(Array("custody-bench nonce \(seq)".utf8)).prefix(16))
        let u = Array(digest)
        let nonce = String(u[0..<8]) + "-" + String(u[8..<12]) + "-" + String(u[12..<16]) + "-" + String(u[16..<20]) + "-" + String(u[20..<32])
        return sign(Self.common("parcel.extract", signer: Self.participantID(p), nonce: nonce, millis: 1_000 + Int64(seq)) + [
            ("parcel", .string(Self.siteID(p) + "/2026-05-27/" + Self.pad(seq, 12))),
            ("site", .string(Self.siteID(p))),
            ("carats", .integer(Int64(100 + seq % 250_000))),
            ("stones", .integer(Int64(1 + seq % 3_000))),
            ("extractedOn", .string("2026-05-27")),
        ], with: keys[p])
    }

    /// Events `range`, signed on all cores. Signing is set-up, never part of a timed section.
    func events(_ range: Range<Int>) async -> [EventEnvelope] {
        await ParallelVerifier.mapAsync(Array(range)) { self.event($0) }
    }

    private static func common(_ type: String, signer: String, nonce: String, millis: Int64) -> [(String, JSONValue)] {
        [
            ("type", .string(type)),
            ("schemaVersion", .integer(1)),
            ("signer", .string(signer)),
            ("occurredAt", .string(RFC3339.format(millis: epochMillis + millis))),
            ("nonce", .string(nonce)),
        ]
    }

    private func sign(_ members: [(String, JSONValue)], with key: SigningKey) -> EventEnvelope {
        try! EventEnvelope.sign(body: JSONObject(members), with: key)
    }

    /// Zero-padded decimal (avoids `String(format:)`, which is slow on Linux).
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Appends measured through `Ledger.submit`.
struct AppendOutcome: Sendable {
    /// Events submitted.
    var submitted: Int
    /// Events acknowledged as new, durably committed entries.
    var accepted: Int
    /// Wall-clock seconds from the first submit to the last acknowledgement.
    var seconds: Double
    /// The first refusal, if any (the benchmark stops on it).
    var firstFailure: String?

    var rate: Double { Double(accepted) / seconds }
}

extension AppendOutcome {
    /// This pass and another of the same workload as one figure, as `HTTPAppendOutcome.combined(with:)` does:
    /// their events over their summed time.
    func combined(with other: AppendOutcome) -> AppendOutcome {
        AppendOutcome(submitted: submitted + other.submitted, accepted: accepted + other.accepted, seconds: seconds + other.seconds,
                      firstFailure: firstFailure ?? other.firstFailure)
    }
}

/// Drives a `Ledger` in-process.
enum LedgerLoad {
    /// Submits `envelopes` from `tasks` concurrent tasks, `batch` envelopes per `submit` call, and counts
    /// the receipts. Every result must be a fresh entry: a refusal or a duplicate is reported.
    static func submitAll(_ envelopes: [EventEnvelope], to ledger: Ledger, tasks: Int, batch: Int) async -> AppendOutcome {
        let batches = stride(from: 0, to: envelopes.count, by: batch).map {
            Array(envelopes[$0..<min($0 + batch, envelopes.count)])
        }
        let (counts, seconds) = await timedAsync {
            await withTaskGroup(of: (Int, String?).self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        var accepted = 0
                        var failure: String?
                        for b in stride(from: t, to: batches.count, by: tasks) {
                            for result in await ledger.submit(batches[b]) {
                                switch result {
                                case .success(let receipt) where !receipt.duplicate: accepted += 1
                                case .success(let receipt): failure = failure ?? "event \(receipt.eventId) reported as a duplicate"
                                case .failure(let error): failure = failure ?? "\(error)"
                                }
                            }
                        }
                        return (accepted, failure)
                    }
                }
                var total = (0, nil as String?)
                for await (accepted, failure) in group {
                    total.0 += accepted
                    total.1 = total.1 ?? failure
                }
                return total
            }
        }
        return AppendOutcome(submitted: envelopes.count, accepted: counts.0, seconds: seconds, firstFailure: counts.1)
    }
}

/// How the large log was built.
struct BuildOutcome: Sendable {
    /// Entries in the log afterwards.
    var entries: UInt64
    /// Events appended by the build step.
    var appended: Int
    /// Seconds spent signing (in parallel), outside the append timing.
    var signSeconds: Double
    /// Seconds spent in `Ledger.submit`.
    var appendSeconds: Double
    /// Whole step, wall clock.
    var totalSeconds: Double
    /// Append rate of each chunk, by log size after it: shows whether appends slow down as the log grows.
    var chunks: [(entries: UInt64, rate: Double)]
}

extension LedgerLoad {
    /// Grows the log to `target` entries with events `firstSeq...`, signing 65,536 at a time on all cores
    /// and appending each chunk from 4 tasks in batches of 4,096 (the ledger's largest transaction).
    /// Chunking bounds the memory of pre-signed events.
    static func grow(_ ledger: Ledger, to target: UInt64, factory: EventFactory, firstSeq: Int,
                     progress: (String) -> Void) async throws -> BuildOutcome {
        let start = ContinuousClock.now
        var seq = firstSeq
        var signSeconds = 0.0, appendSeconds = 0.0, appended = 0
        var chunks: [(entries: UInt64, rate: Double)] = []
        while ledger.treeSize < target {
            let count = Int(min(65_536, target - ledger.treeSize))
            let (chunk, signing) = await timedAsync { await factory.events(seq..<seq + count) }
            seq += count
            let outcome = await submitAll(chunk, to: ledger, tasks: 4, batch: 4_096)
            if let failure = outcome.firstFailure { throw BenchError("building the log: \(failure)") }
            signSeconds += signing
            appendSeconds += outcome.seconds
            appended += outcome.accepted
            chunks.append((ledger.treeSize, outcome.rate))
            progress("build: \(Format.grouped(Int(ledger.treeSize))) / \(Format.grouped(Int(target))) entries, \(Format.int(outcome.rate)) appends/s")
        }
        return BuildOutcome(entries: ledger.treeSize, appended: appended, signSeconds: signSeconds,
                            appendSeconds: appendSeconds, totalSeconds: (ContinuousClock.now - start).seconds,
                            chunks: chunks)
    }

    /// Times `count` inclusion proofs of random leaves against the current tree, one at a time, and checks
    /// a few of them against the signed checkpoint so the timing is of real, correct proofs.
    static func inclusionProofs(_ ledger: Ledger, count: Int) throws -> LatencySummary {
        let size = ledger.treeSize
        var rng = SplitMix64(seed: 42)
        let indexes = (0..<count).map { _ in UInt64.random(in: 0..<size, using: &rng) }
        var nanos: [UInt64] = []
        nanos.reserveCapacity(count)
        for index in indexes {
            let start = monotonicNanos()
            let proof = try ledger.inclusionProof(index: index, size: size)
            nanos.append(monotonicNanos() - start)
            precondition(proof.treeSize == size)
        }
        try ProofCheck.verify(ledger: ledger, indexes: indexes.prefix(16), size: size)
        return LatencySummary(nanos: nanos)
    }
}

/// Verifies served proofs the way a client would: against the root of the signed checkpoint.
enum ProofCheck {
    static func verify(ledger: Ledger, indexes: some Sequence<UInt64>, size: UInt64) throws {
        let checkpoint = try Checkpoint.open(ledger.latestCheckpoint.note, verifier: ledger.signer.verifier)
        guard checkpoint.size == size else { throw BenchError("checkpoint size \(checkpoint.size) ≠ \(size)") }
        for index in indexes {
            let proof = try ledger.inclusionProof(index: index, size: size)
            try Merkle.verifyInclusion(leafHash: try ledger.entry(at: index).leafHash, index: index, size: size,
                                       proof: proof.path ?? [], root: checkpoint.root)
        }
    }
}
