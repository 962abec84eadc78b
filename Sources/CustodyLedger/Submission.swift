import CustodyModel

/// What the envelopes of one request body came to: one outcome, or one per item of a batch, in order.
public enum SubmissionOutcome: Sendable {
    /// The body was a single envelope.
    case single(Result<Receipt, LedgerError>)
    /// The body was a JSON array of envelopes.
    case batch([Result<Receipt, LedgerError>])
}

extension Ledger {
    /// Most envelopes in one batch request.
    public static let maxEnvelopesPerRequest = 10_000

    /// Decodes a request body and appends what it holds, so that each envelope is parsed, canonicalised and
    /// its signature checked in one go. A single envelope is handled on the caller's task (one parse and one
    /// signature check: less work than two thread hand-offs cost); a batch on all cores, off the caller's
    /// thread. Throws only when the body as a whole is unusable (not JSON, or an empty or oversized batch).
    public func submit(body bytes: [UInt8]) async throws(LedgerError) -> SubmissionOutcome {
        let keys = publishedKeys, rules = enforcesRules
        guard bytes.first(where: { !JSONParser.isWhitespace($0) }) == UInt8(ascii: "[") else {
            let envelope: EventEnvelope
            do { envelope = try EventEnvelope.parse(bytes) } catch { return .single(.failure(error)) }
            guard isAccepting else { return .single(.failure(LedgerError(.shuttingDown, "the ledger is shutting down"))) }
            return .single(await sequence([envelope], [PreparedEvent(envelope, keys: keys, rules: rules)])[0])
        }
        let decoded = await ParallelVerifier.mapAsync([bytes]) { bytes in
            BatchBody.decode(bytes) { envelope in (envelope, PreparedEvent(envelope, keys: keys, rules: rules)) }
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
}

/// A batch request body: a JSON array of envelopes, each of which stands or falls alone.
enum BatchBody {
    /// Decodes the envelopes of `bytes` and applies `then` to each, all on the calling thread's pool of cores.
    ///
    /// The array is split without a tree (``JSONArraySplitter``) and each element is read on its own: in place
    /// when it is in the log's canonical form, parsed otherwise. Parsing the body as one tree would hold the
    /// whole batch on one core. An element that is well-formed JSON but refused for what it holds (a number out
    /// of range, a duplicate key, a lone surrogate, nesting too deep, not an envelope) fails alone; only a body
    /// that is not JSON text (one the splitter cannot split, or with an element that is not well-formed) is
    /// refused as a whole, with its first syntax error.
    static func decode<T: Sendable>(_ bytes: [UInt8], then: @escaping @Sendable (EventEnvelope) -> T)
        -> Result<[Result<T, LedgerError>], LedgerError>
    {
        do throws(LedgerError) {
            guard let ranges = bytes.withUnsafeBufferPointer({ JSONArraySplitter.elements(of: $0) }) else {
                throw malformed(bytes)
            }
            try checkCount(ranges.count)
            let items = ParallelVerifier.map(ranges) { range -> Result<T, LedgerError>? in
                let item = Array(bytes[range])
                if let envelope = EventEnvelope(canonical: item) { return .success(then(envelope)) }
                let value: JSONValue
                // Inside the array an element sits one level deeper than it does alone.
                do throws(JSONParseError) { value = try JSONParser.parse(item, maxDepth: JSONParser.defaultMaxDepth - 1) } catch {
                    // The splitter only finds an element's extent; a malformed one may not even be one element.
                    do { try JSONParser.checkSyntax(item) } catch { return nil }
                    return .failure(LedgerError(error))
                }
                return Result { () throws(LedgerError) in then(try EventEnvelope.parse(value)) }
            }
            let decoded = items.compactMap { $0 }
            guard decoded.count == items.count else { throw malformed(bytes) }
            return .success(decoded)
        } catch {
            return .failure(error)
        }
    }

    /// Why `bytes`, which could not be split into well-formed elements, are refused as a whole: their first
    /// syntax error.
    private static func malformed(_ bytes: [UInt8]) -> LedgerError {
        do throws(JSONParseError) { try JSONParser.checkSyntax(bytes) } catch { return LedgerError(error) }
        // Well-formed JSON the splitter does not take is not an array.
        return LedgerError(.invalidEnvelope, "a batch is a JSON array of envelopes")
    }

    private static func checkCount(_ count: Int) throws(LedgerError) {
        guard count > 0 else { throw LedgerError(.invalidEnvelope, "the batch is empty") }
        guard count <= Ledger.maxEnvelopesPerRequest else {
            throw LedgerError(.payloadTooLarge, "a batch holds at most \(Ledger.maxEnvelopesPerRequest) envelopes, got \(count)")
        }
    }
}
