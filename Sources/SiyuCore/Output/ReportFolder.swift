import Foundation

/// The report folder is published whole: each run writes a new hidden folder beside it
/// (`.reports.<run id>`) and then points `reports` at it with one atomic rename of a symbolic
/// link, so a reader sees the previous report or the new one, never a mix of two runs. The
/// previous folder is kept (a page open in a browser still loads), older ones are removed.
public struct ReportFolder {
    /// The path readers open (`<output>/index.html`): a symbolic link to the current version.
    public let output: String
    let parent: String, base: String

    public init(output: String) {
        var o = output
        while o.count > 1 && o.hasSuffix("/") { o.removeLast() }
        self.output = o
        let p = (o as NSString).deletingLastPathComponent
        parent = p.isEmpty ? "." : p
        base = (o as NSString).lastPathComponent
    }

    var prefix: String { ".\(base)." }

    /// The version folder a run writes (a sibling of `output`).
    public func version(runID: String) -> String { (parent as NSString).appendingPathComponent(prefix + runID) }

    /// The version the link points at now (its folder name), nil when there is none.
    public var published: String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: output) else { return nil }
        return (target as NSString).lastPathComponent
    }

    /// Names a report folder from before versioned publishing may hold (all written by siyu).
    static func isSiyuFile(_ name: String) -> Bool {
        name.hasSuffix(".csv") || name == "index.html" || name == "manifest.json" || name == "report.xlsx"
            || name.contains(".tmp-") || name.hasPrefix(".dat.nosync")
    }

    /// Creates the run's empty version folder after checking that `output` can be published.
    public func prepare(runID: String) throws -> String {
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw SiyuError.config(file: parent, message: "cannot create the report's folder (\(ErrorText.describe(error))); check the permissions or choose another output")
        }
        var st = stat()
        if lstat(output, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: break
            case S_IFDIR:
                // A report folder written before versioned publishing: replaced on publishing, but
                // only when everything in it is siyu's own.
                let names = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
                if let other = names.first(where: { !Self.isSiyuFile($0) }) {
                    throw SiyuError.config(file: output, message: "the output folder holds files siyu did not write (\(other)); siyu publishes each report as a new folder and points `\(base)` at it, so it replaces this folder: choose a new or empty output folder")
                }
            default:
                throw SiyuError.config(file: output, message: "exists and is not a folder; remove it or choose another output")
            }
        }
        let dir = version(runID: runID)
        try? FileManager.default.removeItem(atPath: dir)   // a run with this id that was killed
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false) } catch {
            throw SiyuError.config(file: dir, message: "cannot create the report folder (\(ErrorText.describe(error))); check that \(parent) is writable and not full")
        }
        return dir
    }

    /// Points `output` at `dir` (one rename of a new link over the old one) and removes versions
    /// older than the previous one.
    public func publish(_ dir: String) throws {
        let name = (dir as NSString).lastPathComponent
        let previous = published
        let link = (parent as NSString).appendingPathComponent(".\(base).link-\(getpid())")
        unlink(link)
        guard symlink(name, link) == 0 else {
            throw SiyuError.config(file: link, message: "cannot create the report link (\(String(cString: strerror(errno)))); check that \(parent) is writable")
        }
        var st = stat()
        if lstat(output, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            // Once, from a plain folder: moved aside, replaced by the link, then removed.
            let aside = (parent as NSString).appendingPathComponent(prefix + "old-\(getpid())")
            guard rename(output, aside) == 0 else {
                unlink(link)
                throw SiyuError.config(file: output, message: "cannot move the old report folder aside (\(String(cString: strerror(errno)))); check the folder's permissions")
            }
        }
        guard rename(link, output) == 0 else {
            let e = errno
            unlink(link)
            throw SiyuError.config(file: output, message: "cannot publish the report (\(String(cString: strerror(e)))); the new report is in \(dir)")
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        where entry.hasPrefix(prefix) && entry != name && entry != previous {
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(entry))
        }
    }
}
