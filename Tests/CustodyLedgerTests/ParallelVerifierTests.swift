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
    /// nested job must still spread over the cores, not run on the one worker that holds the request.
    @Test("a map nested in a job's piece runs on more than one core", .enabled(if: ParallelVerifier.width > 1))
    func nestedMapSpreads() async {
        let threads = Mutex<Set<String>>([])
        let sums = await ParallelVerifier.mapAsync([0]) { _ in
            ParallelVerifier.map(Array(0..<64)) { i -> Int in
                threads.withLock { _ = $0.insert("\(pthread_self())") }
                // About a millisecond of work per item, so that an idle worker comes to take a share.
                var x = UInt64(i)
                for _ in 0..<300_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
                return Int(x & 1) + i
            }.reduce(0, +)
        }
        #expect(sums.count == 1)
        #expect(threads.withLock { $0.count } > 1)
    }
}
