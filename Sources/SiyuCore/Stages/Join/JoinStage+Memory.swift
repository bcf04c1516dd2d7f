import Foundation
import Logging

extension JoinStage {
    /// Hands the heap's free pages back to the system (glibc `malloc_trim`, looked up at run time;
    /// nothing elsewhere). A stage's many small allocations, freed, otherwise stay resident and
    /// add to the next stage's peak when `siyu run` runs them in one process.
    static func releaseFreedMemory() {
        #if os(Linux)
        typealias Trim = @convention(c) (Int) -> Int32
        guard let program = dlopen(nil, RTLD_NOW), let trim = dlsym(program, "malloc_trim") else { return }
        _ = unsafeBitCast(trim, to: Trim.self)(0)
        #endif
    }

    /// Resident and peak resident memory of this process in MiB (Linux /proc; 0 elsewhere), for the phase log.
    static func residentMB() -> (rss: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) / 1024
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }
}

/// The join's phase log (`--verbose`): each phase's seconds and the process's resident and peak
/// memory when it ends, which is how the memory tricks of the join are measured.
final class PhaseLog {
    private let logger: Logger
    private var mark = Date()

    init(_ logger: Logger) { self.logger = logger }

    func callAsFunction(_ name: String) {
        let memory = JoinStage.residentMB()
        logger.debug("phase done", metadata: ["stage": "join", "phase": "\(name)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(mark)))",
                                              "rss_mb": "\(memory.rss)", "peak_mb": "\(memory.peak)"])
        mark = Date()
    }
}
