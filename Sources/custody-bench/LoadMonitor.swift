import Foundation

/// How much of the machine other processes used while a phase ran. A benchmark on a shared two-core machine
/// is only meaningful if nothing else competed for the cores, so the report states it for every phase
/// instead of assuming it.
///
/// Both sides come from the kernel in clock ticks: the machine's busy time from `/proc/stat`, this process's
/// own CPU time (and that of its waited-for children, the replay processes) from `/proc/self/stat`.
struct LoadSnapshot {
    let machineBusy: Double
    let steal: Double
    let own: Double
    let at: ContinuousClock.Instant

    static func now() -> LoadSnapshot {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var busy = 0.0, steal = 0.0
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) {
            // user nice system idle iowait irq softirq steal …; busy = user+nice+system+irq+softirq.
            let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            if f.count >= 8 {
                busy = f[0] + f[1] + f[2] + f[5] + f[6]
                steal = f[7]
            }
        }
        var own = 0.0
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // After the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
            let f = stat[stat.index(after: close)...].split(separator: " ")
            if f.count > 14 { own = [11, 12, 13, 14].reduce(0) { $0 + (Double(f[$1]) ?? 0) } }
        }
        return LoadSnapshot(machineBusy: busy / ticks, steal: steal / ticks, own: own / ticks, at: .now)
    }
}

/// Other processes' share of the machine during one phase.
struct PhaseLoad: Sendable {
    var phase: String
    var seconds: Double
    /// CPU used by other processes, as a fraction of all cores over the phase.
    var others: Double
    /// Time the hypervisor gave this VM's vCPUs to someone else, as a fraction of all cores.
    var steal: Double

    init(phase: String, from start: LoadSnapshot, to end: LoadSnapshot, cores: Int) {
        self.phase = phase
        seconds = (end.at - start.at).seconds
        let capacity = max(seconds * Double(cores), 1e-9)
        others = max(0, (end.machineBusy - start.machineBusy) - (end.own - start.own)) / capacity
        steal = max(0, end.steal - start.steal) / capacity
    }
}

/// Records the load of named phases.
final class LoadMonitor {
    private(set) var phases: [PhaseLoad] = []
    private let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body` as phase `name`.
    func phase<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        let start = LoadSnapshot.now()
        let value = try await body()
        phases.append(PhaseLoad(phase: name, from: start, to: .now(), cores: cores))
        return value
    }
}
