import Foundation
import Logging

/// One raw file parsed by the clean worker, or a piece of it: folded orders (in first-seen order),
/// follower and spend rows, quarantined rows. Follower and spend rows come in pieces of
/// `CleanedFile.pieceRows` so that a large file is never held whole; orders (folded over the whole
/// file) come with the last piece.
final class CleanedFile: @unchecked Sendable {
    static let pieceRows = 32_768
    let file: CleanStage.FileRow
    /// The file's last piece.
    var last = false
    var orders: [StagedOrder] = []
    var follows: [[SQLValue]] = []
    var spends: [[SQLValue]] = []
    var quarantined: [(line: Int, reason: String, column: Int?, raw: String)] = []
    /// Item lines (with the last piece, like orders) and the platform they belong to.
    var items: [StagedItem] = []
    var itemPlatform = ""
    /// The file's first and last day (purchase, follow or spend day), set on the last piece.
    var firstDay: Int?
    var lastDay: Int?
    var rowsIn = 0
    init(file: CleanStage.FileRow) { self.file = file }
}

/// Reads and parses raw files on its own thread and read-only connection, in the given order.
final class CleanWorker: @unchecked Sendable {
    let stage: CleanStage
    /// The files this worker parses, with their places in the writing order.
    let files: [(Int, CleanStage.FileRow)]
    let dbPath: String
    let tickets: FileTickets
    /// One piece waiting per worker: a piece holds up to a file's folded orders.
    let results = BlockingQueue<Result<CleanedFile, Error>>(capacity: 1)

    /// Parsing workers for `files` files: two (parsing costs about twice what writing does), one
    /// on a single core. More would hold more files' orders in memory at once.
    static func lanes(files: Int) -> Int {
        max(1, min(files, 2, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Opens the file immutable (no locks): a scratch file whose writer does not use the WAL.
    let immutable: Bool

    init(stage: CleanStage, files: [(Int, CleanStage.FileRow)], dbPath: String, immutable: Bool, tickets: FileTickets) {
        self.immutable = immutable
        self.tickets = tickets
        self.stage = stage
        self.files = files
        self.dbPath = dbPath
    }

    func start() {
        guard !files.isEmpty else { return }
        let t = Thread { [self] in
            do {
                let db = try Database(path: dbPath, readOnly: true, immutable: immutable)
                for (place, f) in files {
                    tickets.wait(for: place)
                    try stage.parseFile(f, db: db) { results.push(.success($0)) }
                }
            } catch {
                results.push(.failure(error))
            }
        }
        t.stackSize = 8 << 20
        t.start()
    }
}

/// Files parsed ahead of the writer, at most `ahead` of them counting the one being written:
/// file i may be parsed once the writer has written files up to i - ahead. Granted in file order
/// (a worker waits for its next file only), so the file the writer needs is always granted.
final class FileTickets: @unchecked Sendable {
    private let ahead: Int
    private var done = 0
    private let cond = NSCondition()
    init(ahead: Int) { self.ahead = ahead }

    func wait(for place: Int) {
        cond.lock()
        while place >= done + ahead { cond.wait() }
        cond.unlock()
    }

    func written() {
        cond.lock()
        done += 1
        cond.broadcast()
        cond.unlock()
    }
}

