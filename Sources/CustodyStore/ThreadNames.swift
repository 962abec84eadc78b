import Foundation

extension Thread {
    /// Names the calling thread for the kernel (`/proc/<pid>/task/<tid>/comm`), which `top -H`, `perf` and the
    /// benchmark's per-thread figures show. Foundation's `Thread.name` does not set it, and a thread otherwise
    /// keeps the name of the thread that created it. The kernel keeps the first 15 bytes. A no-op off Linux.
    public static func nameForKernel(_ name: String) {
        #if os(Linux)
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
    }
}
