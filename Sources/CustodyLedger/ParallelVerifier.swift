import CustodyCrypto
import CustodyStore
import Dispatch
import Foundation

/// Runs CPU-heavy per-item work (signature checks, parsing) across all cores, off the caller's thread and
/// never on an event loop. Verification is about 90% of an append's cost, so this is where throughput is won.
public enum ParallelVerifier {
    /// Number of worker threads: the machine's active cores.
    public static let width = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// `transform` applied to every element, split into contiguous chunks across the cores.
    /// Runs on the pool's workers while the calling thread waits.
    public static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        // One element, or a call from inside a worker (which would wait on its own pool): run it here.
        guard items.count > 1, !WorkerPool.isWorkerThread else { return items.map(transform) }
        // Pieces of about 32 items (a few milliseconds of checks): the last piece of a job runs on one core
        // while the others wait, so large pieces idle the cores at the end of every job.
        let chunks = min(items.count, max(width * 4, items.count / 32))
        let results = ResultSlots<R>(count: items.count)
        withoutActuallyEscaping(transform) { transform in
            workers.perform(chunks) { chunk in
                let lo = items.count * chunk / chunks
                let hi = items.count * (chunk + 1) / chunks
                for i in lo..<hi { results.set(i, transform(items[i])) }
            }
        }
        return results.values()
    }

    /// One thread per core, at a lower priority than the rest of the process (nice 5): the parallel stage
    /// takes what CPU the serial stages (the sequencer, an audit's fold, request handlers) leave, instead of
    /// the serial stage falling behind and then idling the cores it starved.
    private static let workers = WorkerPool(width: width, nice: 5)

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

/// A fixed set of worker threads that run the chunks of one `perform` call at a time (callers queue).
private final class WorkerPool: @unchecked Sendable {
    // `job`, `next`, `count` and `remaining` are guarded by `condition`; `callers` lets one caller in at a time.
    private let condition = NSCondition()
    private let callers = NSLock()
    private var job: ((Int) -> Void)?
    private var next = 0
    private var count = 0
    private var remaining = 0

    /// Whether the calling thread is one of a pool's workers.
    static var isWorkerThread: Bool { Thread.current.threadDictionary[workerKey] != nil }
    private static let workerKey = "custody.worker-pool"

    init(width: Int, nice: Int32) {
        for n in 0..<width {
            let thread = Thread { [self] in
                Thread.current.threadDictionary[Self.workerKey] = true
                #if os(Linux)
                // On Linux this niceness applies to the calling thread only (setpriority(2), "BUGS").
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                #endif
                Thread.nameForKernel("custody-check-\(n)")
                work()
            }
            thread.name = "custody-check-\(n)"
            thread.start()
        }
    }

    /// Runs `body(0..<iterations)` on the workers and returns when every iteration has finished.
    func perform(_ iterations: Int, _ body: @escaping (Int) -> Void) {
        callers.lock()
        defer { callers.unlock() }
        condition.lock()
        job = body
        next = 0
        count = iterations
        remaining = iterations
        condition.broadcast()
        while remaining > 0 { condition.wait() }
        job = nil
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while job == nil || next >= count { condition.wait() }
            let body = job!
            let i = next
            next += 1
            condition.unlock()
            body(i)
            condition.lock()
            remaining -= 1
            if remaining == 0 { condition.broadcast() }
        }
    }
}
