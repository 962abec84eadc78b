import CustodyModel

/// A request body decoded into envelopes: one, or a batch in which each item stands or falls alone.
public enum Submission: Sendable {
    /// A single envelope.
    case single(Result<EventEnvelope, LedgerError>)
    /// A JSON array of envelopes, in order.
    case batch([Result<EventEnvelope, LedgerError>])

    /// Most envelopes in one batch request.
    public static let maxBatch = 10_000

    /// Decodes a request body. Parsing and canonicalising run on all cores, off the caller's thread.
    /// Throws only when the body as a whole is unusable (not JSON, or an empty or oversized batch).
    public static func decode(_ bytes: [UInt8]) async throws(LedgerError) -> Submission {
        let result: Result<Submission, LedgerError> = await ParallelVerifier.mapAsync([bytes]) { bytes in
            do throws(LedgerError) {
                let value = try EventEnvelope.parseJSON(bytes)
                guard case .array(let items) = value else {
                    return .success(.single(Result { () throws(LedgerError) in try EventEnvelope.parse(value) }))
                }
                guard !items.isEmpty else { throw LedgerError(.invalidEnvelope, "the batch is empty") }
                guard items.count <= maxBatch else {
                    throw LedgerError(.payloadTooLarge, "a batch holds at most \(maxBatch) envelopes, got \(items.count)")
                }
                return .success(.batch(ParallelVerifier.map(items) { item in
                    Result { () throws(LedgerError) in try EventEnvelope.parse(item) }
                }))
            } catch {
                return .failure(error)
            }
        }[0]
        return try result.get()
    }
}

extension Ledger {
    /// Submits the valid envelopes of a decoded batch and merges their outcomes with the items that
    /// were already refused, keeping the order given.
    public func submit(_ items: [Result<EventEnvelope, LedgerError>]) async -> [Result<Receipt, LedgerError>] {
        let valid = items.compactMap { try? $0.get() }
        var outcomes = await submit(valid)[...]
        return items.map { item in
            switch item {
            case .success: outcomes.removeFirst()
            case .failure(let error): .failure(error)
            }
        }
    }
}

/// What the envelopes of one request body came to: one outcome, or one per item of a batch, in order.
public enum SubmissionOutcome: Sendable {
    /// The body was a single envelope.
    case single(Result<Receipt, LedgerError>)
    /// The body was a JSON array of envelopes.
    case batch([Result<Receipt, LedgerError>])
}

extension Ledger {
    /// Decodes a request body and appends what it holds: `Submission.decode` and `submit` in one pass, so
    /// that each envelope is parsed, canonicalised and its signature checked in one go. A single envelope is
    /// handled on the caller's task (one parse and one signature check: less work than two thread hand-offs
    /// cost); a batch on all cores, off the caller's thread. Throws only when the body as a whole is unusable
    /// (not JSON, or an empty or oversized batch).
    public func submit(body bytes: [UInt8]) async throws(LedgerError) -> SubmissionOutcome {
        let keys = publishedKeys, rules = enforcesRules
        guard bytes.first(where: { !Self.isJSONSpace($0) }) == UInt8(ascii: "[") else {
            let envelope: EventEnvelope
            do { envelope = try EventEnvelope.parse(bytes) } catch { return .single(.failure(error)) }
            guard isAccepting else { return .single(.failure(LedgerError(.shuttingDown, "the ledger is shutting down"))) }
            return .single(await sequence([envelope], [PreparedEvent(envelope, keys: keys, rules: rules)])[0])
        }
        typealias Checked = Result<(EventEnvelope, PreparedEvent), LedgerError>
        let decoded: Result<[Checked], LedgerError> = await ParallelVerifier.mapAsync([bytes]) { bytes in
            do throws(LedgerError) {
                guard case .array(let items) = try EventEnvelope.parseJSON(bytes) else {
                    throw LedgerError(.invalidEnvelope, "a batch is a JSON array of envelopes")
                }
                guard !items.isEmpty else { throw LedgerError(.invalidEnvelope, "the batch is empty") }
                guard items.count <= Submission.maxBatch else {
                    throw LedgerError(.payloadTooLarge, "a batch holds at most \(Submission.maxBatch) envelopes, got \(items.count)")
                }
                return .success(ParallelVerifier.map(items) { item -> Checked in
                    Result { () throws(LedgerError) in
                        let envelope = try EventEnvelope.parse(item)
                        return (envelope, PreparedEvent(envelope, keys: keys, rules: rules))
                    }
                })
            } catch {
                return .failure(error)
            }
        }[0]
        let items = try decoded.get()
        guard isAccepting else {
            return .batch(items.map { _ in .failure(LedgerError(.shuttingDown, "the ledger is shutting down")) })
        }
        var envelopes: [EventEnvelope] = [], prepared: [PreparedEvent] = []
        envelopes.reserveCapacity(items.count)
        prepared.reserveCapacity(items.count)
        for case .success(let (envelope, p)) in items {
            envelopes.append(envelope)
            prepared.append(p)
        }
        var outcomes = await sequence(envelopes, prepared)[...]
        return .batch(items.map { item in
            switch item {
            case .success: outcomes.removeFirst()
            case .failure(let error): .failure(error)
            }
        })
    }

    private static func isJSONSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
