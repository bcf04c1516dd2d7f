import Foundation
import ZIPFoundation

/// Inflates one zip entry (ZIPFoundation) on a thread of its own, a few chunks ahead of the XML
/// parser, so that reading, inflating and the CRC run on the second core while the first parses.
/// Counts what comes out: a part that grows past its limit, or compresses absurdly well (a zip
/// bomb), is refused while it streams, whatever sizes the zip declares.
///
/// The caller pulls chunks with `next()` and must call `finish()` before the archive is used again
/// (it stops the thread early if the parse ended early, and waits until it is done with the file).
final class PartInflater: @unchecked Sendable {
    private enum Item { case chunk(Data), end(Error?) }
    private struct Stop: Error {}

    /// 8 chunks of 64 KiB in flight at most: memory stays flat however long the part.
    private static let chunkSize = 1 << 16
    private let queue = BlockingQueue<Item>(capacity: 8)
    private let lock = NSLock()
    private var cancelled = false
    /// Read by the caller's thread only: the end item was taken.
    private var ended = false

    private let archive: Archive
    private let entry: Entry
    private let limit: Int64
    private let maxRatio: Int64
    private let part: String

    /// Starts inflating `entry` of `archive`; `part` names it in messages ("the sheet").
    init(archive: Archive, entry: Entry, limit: Int64, maxRatio: Int64, part: String) {
        self.archive = archive
        self.entry = entry
        self.limit = limit
        self.maxRatio = maxRatio
        self.part = part
        Thread { [self] in queue.push(.end(inflate())) }.start()
    }

    /// The next inflated chunk, nil after the last; throws what went wrong while inflating.
    func next() throws -> Data? {
        switch queue.pop() {
        case let .chunk(data):
            return data
        case let .end(error):
            ended = true
            if let error { throw error }
            return nil
        }
    }

    /// Stops the thread if it is still inflating and waits until it has let go of the zip.
    func finish() {
        guard !ended else { return }
        lock.lock()
        cancelled = true
        lock.unlock()
        while true {
            if case .end = queue.pop() { break }
        }
        ended = true
    }

    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    /// Runs on the inflater's thread; returns the error to hand over, nil when the part was whole.
    private func inflate() -> Error? {
        let declared = Int64(clamping: entry.uncompressedSize)
        if declared > limit { return WorkbookError.tooLarge(part, limit) }
        let compressed = max(Int64(clamping: entry.compressedSize), 1)
        let (byRatio, overflow) = compressed.multipliedReportingOverflow(by: maxRatio)
        let maxByRatio = overflow ? Int64.max : max(byRatio, XLSXLimits.ratioGraceBytes)
        let stored = !entry.isCompressed
        var total: Int64 = 0
        var crc: UInt32 = 0
        do {
            // ZIPFoundation's own CRC goes a byte at a time on Linux: ZipCRC32 instead.
            _ = try archive.extract(entry, bufferSize: Self.chunkSize, skipCRC32: true) { data in
                if isCancelled { throw Stop() }
                if data.isEmpty {
                    // A stored part is read to its declared size: an empty chunk means the file ended.
                    if stored && total < declared { throw WorkbookError.damaged("\(part) ends early: the file is cut short") }
                    return
                }
                total += Int64(data.count)
                if total > limit { throw WorkbookError.tooLarge(part, limit) }
                if total > maxByRatio {
                    throw WorkbookError("\(part) is compressed more than \(maxRatio):1, which no real export is (a zip bomb?): refused; download the export again from the back office")
                }
                crc = data.withUnsafeBytes { ZipCRC32.update(crc, $0) }
                queue.push(.chunk(data))
            }
        } catch is Stop {
            return nil
        } catch let e as WorkbookError {
            return e
        } catch {
            return WorkbookError.damaged("\(part) cannot be inflated")
        }
        return crc == entry.checksum ? nil : WorkbookError.damaged("\(part) fails its checksum")
    }
}

extension WorkbookError {
    static func tooLarge(_ part: String, _ limit: Int64) -> WorkbookError {
        WorkbookError("\(part) inflates to more than \(limit >> 20) MiB, more than any real export (a zip bomb?): refused; download the export again, or export a shorter period")
    }

    static func damaged(_ what: String) -> WorkbookError {
        WorkbookError("the .xlsx file is damaged (\(what)): download the export again")
    }
}
