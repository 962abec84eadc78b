import CustodyCrypto
import Dispatch
import Foundation

/// Runs CPU-heavy per-item work (signature checks, parsing) across all cores, off the caller's thread and
/// never on an event loop. Verification is about 90% of an append's cost, so this is where throughput is won.
public enum ParallelVerifier {
    /// Number of worker threads: the machine's active cores.
    public static let width = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// `transform` applied to every element, split into contiguous chunks across the cores.
    /// Runs synchronously on the calling thread plus Dispatch's workers.
    public static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        guard items.count > 1 else { return items.map(transform) }
        let chunks = min(items.count, width * 4)
        let results = ResultSlots<R>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = items.count * chunk / chunks
            let hi = items.count * (chunk + 1) / chunks
            for i in lo..<hi { results.set(i, transform(items[i])) }
        }
        return results.values()
    }

    /// `map` run off the caller's thread, so an async caller's thread (an event loop or the cooperative
    /// pool) is never blocked by the work. Jobs run one after another, each on all cores, in the order they
    /// came: concurrent jobs run side by side would all finish at about the same time, and the sequencer
    /// would idle until then and then have them all at once; in order, the first is sequenced while the
    /// next are still being checked.
    public static func mapAsync<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) -> R) async -> [R] {
        await withCheckedContinuation { continuation in
            jobs.async {
                continuation.resume(returning: map(items, transform))
            }
        }
    }

    private static let jobs = DispatchQueue(label: "custody-parallel-jobs", qos: .userInitiated)
}

/// Write-once result slots filled from many threads. Each index is written by exactly one chunk and read
/// only after `concurrentPerform` returns, so there is no concurrent access to the same element.
private final class ResultSlots<R>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<R?>
    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }
    deinit {
        storage.deinitialize()
        storage.deallocate()
    }
    func set(_ i: Int, _ value: R) { storage[i] = value }
    func values() -> [R] { storage.map { $0! } }
}
