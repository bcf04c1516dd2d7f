import Foundation

/// One run at a time per warehouse: an flock(2) on `<warehouse>.lock`, holding the holder's pid and
/// start time. The kernel releases the lock when its process dies, so a lock left by a killed run
/// is stale by construction and the next run takes it over.
public final class RunLock {
    public let path: String
    private let fd: Int32

    /// The lock of a warehouse, beside the file itself when the path is a symbolic link: runs
    /// that reach one warehouse through different paths share one lock.
    public static func lockPath(warehouse: String) -> String { Runner.resolvingLinks(warehouse) + ".lock" }

    public init(warehouse: String, command: String) throws {
        path = Self.lockPath(warehouse: warehouse)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try Warehouse.createPrivateDirectory(dir) }
        // 0600: the lock names the command line of the run, and sits beside private data.
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SiyuError.locked(message: "cannot open the lock file \(path) (errno \(errno)); check that its directory is writable") }
        let previous = Self.read(fd)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw SiyuError.locked(message: "another siyu run holds the warehouse lock \(path): \(previous.isEmpty ? "holder unknown" : previous). Wait for it to finish; the lock frees itself when that process ends")
        }
        ftruncate(fd, 0)
        let me = "pid \(getpid()), started \(Warehouse.timestamp(Date())), command: \(command)\n"
        _ = me.withCString { pwrite(fd, $0, strlen($0), 0) }
        fsync(fd)
        staleHolder = previous.isEmpty ? nil : previous
    }

    /// The holder of the warehouse's lock when a run holds it now (nil when none does). Never waits.
    public static func holder(warehouse: String) -> String? {
        let fd = open(lockPath(warehouse: warehouse), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return nil }
        let h = read(fd)
        return h.isEmpty ? "holder unknown" : h
    }

    /// What an earlier run left in the lock file when it did not release it cleanly (it was killed).
    public private(set) var staleHolder: String?

    static func read(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 512)
        let n = pread(fd, &buf, 512, 0)
        guard n > 0 else { return "" }
        return String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
