import Foundation

/// A one-line progress display on stderr (rows and rate) for long stages, shown only when stderr
/// is a terminal and logging is not quiet: never in cron or CI logs.
public final class Progress {
    public let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    public init(enabled: Bool) { self.enabled = enabled }

    public static func forTerminal(quiet: Bool) -> Progress {
        Progress(enabled: !quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil)
    }

    public func update(stage: String, item: String, rows: Int, since: Date) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
        lastDraw = now
        let secs = max(now.timeIntervalSince(since), 0.001)
        let line = "\r\u{1b}[K\(stage): \(item)  \(rows) rows  \(Int(Double(rows) / secs)) rows/s"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    public func clear() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
        drawn = false
    }
}
