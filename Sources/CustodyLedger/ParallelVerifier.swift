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
    /// (`transform` escapes: a worker may still hold it for a moment after the last result is in.)
    public static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) -> R) -> [R] {
        guard items.count > 1 else { return items.map(transform) }
        let results = ResultSlots<R>(count: items.count)
        let done = DispatchSemaphore(value: 0)
        let job = job(items, transform, into: results) { done.signal() }
        workers.submit(job)
        // Called from a job's piece (a batch request's body, split into envelopes): this worker runs its own job's
        // pieces instead of waiting on them, and the other workers take the rest when they come free.
        if WorkerPool.isWorkerThread { workers.help(job) }
        done.wait()
        return results.values()
    }

    /// `map` run off the caller's thread, so an async caller's thread (an event loop or the cooperative
    /// pool) is never blocked by the work.
    ///
    /// Jobs are taken in the order they came, each on all cores: concurrent jobs run side by side would all
    /// finish at about the same time, and the sequencer would idle until then and then have them all at once;
    /// in order, the first is sequenced while the next are still being checked. A job's last pieces and the
    /// next job's first ones run side by side, so no core waits for the slowest piece of a job.
    public static func mapAsync<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) -> R) async -> [R] {
        guard !items.isEmpty else { return [] }
        let results = ResultSlots<R>(count: items.count)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            workers.submit(job(items, transform, into: results) { continuation.resume() })
        }
        return results.values()
    }

    /// `items` cut into pieces of about 32 (a few milliseconds of checks), each writing its results into
    /// `results`; `finished` runs once every piece has.
    private static func job<T, R>(_ items: [T], _ transform: @escaping (T) -> R, into results: ResultSlots<R>,
                                  finished: @escaping () -> Void) -> WorkerPool.Job {
        let pieces = min(items.count, max(width * 4, items.count / 32))
        return WorkerPool.Job(pieces: pieces, finished: finished) { piece in
            let lo = items.count * piece / pieces
            let hi = items.count * (piece + 1) / pieces
            for i in lo..<hi { results.set(i, transform(items[i])) }
        }
    }

    /// One thread per core, at a lower priority than the rest of the process (nice 5): the parallel stage
    /// takes what CPU the serial stages (the sequencer, an audit's fold, request handlers) leave, instead of
    /// the serial stage falling behind and then idling the cores it starved.
    private static let workers = WorkerPool(width: width, nice: 5)
}

/// Write-once result slots filled from many threads. Each index is written by exactly one piece and read
/// only after the whole job has finished, so there is no concurrent access to the same element.
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

/// A fixed set of worker threads that run the pieces of queued jobs, oldest job first.
private final class WorkerPool: @unchecked Sendable {
    /// Work cut into `pieces` numbered pieces; `finished` is called once, after the last piece to end.
    final class Job {
        let pieces: Int
        let run: (Int) -> Void
        let finished: () -> Void
        /// The next piece to hand out, and the pieces not yet ended; guarded by the pool's `condition`.
        var next = 0
        var remaining: Int

        init(pieces: Int, finished: @escaping () -> Void, run: @escaping (Int) -> Void) {
            self.pieces = pieces
            self.run = run
            self.finished = finished
            remaining = pieces
        }
    }

    // `queue` (jobs with pieces still to hand out) and every job's counters are guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Job] = []

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

    /// Queues `job` behind those already queued.
    func submit(_ job: Job) {
        condition.lock()
        queue.append(job)
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while queue.isEmpty { condition.wait() }
            run(queue[0])
        }
    }

    /// Runs the pieces of `job` on the calling worker until none is left to hand out; the caller then waits for
    /// those other workers took.
    func help(_ job: Job) {
        condition.lock()
        while job.next < job.pieces { run(job) }
        condition.unlock()
    }

    /// Hands out the next piece of `job` and runs it. Called with `condition` locked, and returns with it locked.
    private func run(_ job: Job) {
        let piece = job.next
        job.next += 1
        // Its last piece handed out, the job leaves the queue: the next worker starts the next job.
        if job.next == job.pieces { queue.removeAll { $0 === job } }
        condition.unlock()
        job.run(piece)
        condition.lock()
        job.remaining -= 1
        if job.remaining == 0 {
            condition.unlock()
            job.finished()
            condition.lock()
        }
    }
}
