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
