import Foundation
import ZIPFoundation

/// Inflates one zip entry on a thread of its own, a few chunks ahead of the XML parser, so that
/// reading, inflating and the CRC run on the second core while the first parses. Counts what
/// comes out: a part that grows past its limit, or compresses absurdly well (a zip bomb), is
/// refused while it streams, whatever sizes the zip declares.
///
/// The entry's compressed bytes are read here, never past the entry's end, and inflated by
/// ZIPFoundation (`Data.decompress`): its `Archive.extract` reads on while a damaged deflate stream
/// has not ended, and at the end of the file loops for ever.
///
/// The caller pulls chunks with `next()` and must call `finish()` before it lets go of the file
/// (it stops the thread early if the parse ended early, and waits until the thread is done).
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

    private let fd: Int32
    private let dataStart: UInt64
    private let entry: Entry
    private let limit: Int64
    private let maxRatio: Int64
    private let part: String

    /// Starts inflating `entry`, whose compressed bytes start at `dataStart` in the file open as
    /// `fd`; `part` names it in messages ("the sheet").
    init(fd: Int32, dataStart: UInt64, entry: Entry, limit: Int64, maxRatio: Int64, part: String) {
        self.fd = fd
        self.dataStart = dataStart
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
        let compressed = Int64(clamping: entry.compressedSize)
        let (byRatio, overflow) = max(compressed, 1).multipliedReportingOverflow(by: maxRatio)
        let maxByRatio = overflow ? Int64.max : max(byRatio, XLSXLimits.ratioGraceBytes)
        var read: Int64 = 0, total: Int64 = 0
        var crc: UInt32 = 0
        /// The entry's next `n` compressed bytes, zeros past its last one; throws when asked for
        /// more after that. (Always `n` bytes: Data.decompress tells zlib a chunk holds as many as
        /// it asked for, whatever the provider returned.)
        func provide(_ n: Int) throws -> Data {
            let want = Int(min(Int64(n), compressed - read))
            if want == 0 { throw WorkbookError.damaged("\(part) does not end where the zip says it does") }
            var data = Data(count: max(n, want))
            let got = data.withUnsafeMutableBytes { b -> Int in
                var got = 0
                while got < want {
                    let r = pread(fd, b.baseAddress! + got, want - got, off_t(Int64(dataStart) + read + Int64(got)))
                    if r <= 0 { break }
                    got += r
                }
                return got
            }
            if got < want { throw WorkbookError.damaged("\(part) ends early: the file is cut short") }
            read += Int64(got)
            if !entry.isCompressed { data.count = got }
            return data
        }
        func consume(_ data: Data) throws {
            if isCancelled { throw Stop() }
            if data.isEmpty { return }
            total += Int64(data.count)
            if total > limit { throw WorkbookError.tooLarge(part, limit) }
            if total > maxByRatio {
                throw WorkbookError("\(part) is compressed more than \(maxRatio):1, which no real export is (a zip bomb?): refused; download the export again from the back office")
            }
            crc = data.withUnsafeBytes { ZipCRC32.update(crc, $0) }
            queue.push(.chunk(data))
        }
        do {
            if entry.isCompressed {
                _ = try Data.decompress(size: compressed, bufferSize: Self.chunkSize, skipCRC32: true,
                                        provider: { _, n in try provide(n) }, consumer: consume)
            } else {
                while read < compressed { try consume(provide(Self.chunkSize)) }
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
