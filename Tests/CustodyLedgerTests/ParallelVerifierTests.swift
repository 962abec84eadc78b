import CustodyLedger
import Foundation
import Synchronization
import Testing

/// The pool that checks signatures on all cores: every result in its place, whatever the jobs' sizes, their
/// number in flight and how they nest.
@Suite struct ParallelVerifierTests {
    @Test("results come back in order, for jobs of every size, from many callers at once")
    func resultsInOrder() async {
        await withTaskGroup(of: Bool.self) { group in
            for caller in 0..<32 {
                group.addTask {
                    let items = Array(0..<(caller * 37 % 700))
                    let doubled = await ParallelVerifier.mapAsync(items) { $0 * 2 }
                    return doubled == items.map { $0 * 2 }
                }
            }
            for await ok in group { #expect(ok) }
        }
        let items = Array(0..<5_000)
        #expect(ParallelVerifier.map(items) { $0 &+ 1 } == items.map { $0 &+ 1 })
    }

    /// A batch request is one job whose piece splits the body and checks its envelopes with a nested `map`: the
    /// nested job must still spread over the cores, not run on the one worker that holds the request. The first
    /// item to run waits (up to 10 s) for an item on another thread, so the outcome does not hang on timing:
    /// run inline on one worker, no other thread ever comes.
    @Test("a map nested in a job's piece runs on more than one core", .enabled(if: ParallelVerifier.width > 1))
    func nestedMapSpreads() async {
        let threads = Mutex<(seen: Set<String>, someoneWaited: Bool)>(([], false))
        let sums = await ParallelVerifier.mapAsync([0]) { _ in
            ParallelVerifier.map(Array(0..<64)) { i -> Int in
                let first = threads.withLock { state -> Bool in
                    state.seen.insert("\(pthread_self())")
                    defer { state.someoneWaited = true }
                    return !state.someoneWaited
                }
                if first {
                    let deadline = ContinuousClock.now + .seconds(10)
                    while threads.withLock({ $0.seen.count }) < 2, ContinuousClock.now < deadline { usleep(1_000) }
                }
                return i
            }.reduce(0, +)
        }
        #expect(sums == [64 * 63 / 2])
        #expect(threads.withLock { $0.seen.count } > 1)
    }
}
