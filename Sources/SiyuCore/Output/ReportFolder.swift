import Foundation

/// The report folder is published whole: each run writes a new hidden folder beside it
/// (`.reports.<run id>`) and then points `reports` at it with one atomic rename of a symbolic
/// link, so a reader sees the previous report or the new one, never a mix of two runs. The
/// previous folder is kept (a page open in a browser still loads), older ones are removed.
public struct ReportFolder {
    /// The path readers open (`<output>/index.html`), as the pipeline or `--output` wrote it.
    public let output: String
    /// Where the link really is: `output` made absolute and standard (`.`, `..`, `x/.` resolved),
    /// and followed when it is a link to a folder siyu does not version (a web server's folder:
    /// that folder becomes the published link, the operator's link stays).
    let path: String
    let parent: String, base: String

    public init(output: String) {
        self.output = output
        var p = URL(fileURLWithPath: output).standardizedFileURL.path
        var st = stat()
        if lstat(p, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK,
           let target = try? FileManager.default.destinationOfSymbolicLink(atPath: p),
           !(target as NSString).lastPathComponent.hasPrefix(".\((p as NSString).lastPathComponent).") {
            let dir = (p as NSString).deletingLastPathComponent
            p = URL(fileURLWithPath: target.hasPrefix("/") ? target : (dir as NSString).appendingPathComponent(target)).standardizedFileURL.path
        }
        path = p
        parent = (p as NSString).deletingLastPathComponent
        base = (p as NSString).lastPathComponent
    }

    /// Why `output` cannot be a report folder, or nil.
    public static func problem(_ output: String) -> String? {
        if output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "the output folder is empty; set output = \"build/reports\" (or --output DIR)" }
        let p = URL(fileURLWithPath: output).standardizedFileURL.path
        if p == "/" || p == FileManager.default.currentDirectoryPath || p == NSHomeDirectory() {
            return "the output folder \(output) is \(p == "/" ? "the root folder" : "the working or home folder"); siyu publishes the report by replacing that folder with a link: choose a folder of its own, e.g. build/reports"
        }
        return nil
    }

    var prefix: String { ".\(base)." }

    /// The version folder a run writes (a sibling of `output`).
    public func version(runID: String) -> String { (parent as NSString).appendingPathComponent(prefix + runID) }

    /// The version the link points at now (its folder name), nil when there is none.
    public var published: String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return nil }
        return (target as NSString).lastPathComponent
    }

    /// A report folder from before versioned publishing: it holds siyu's files only (its outputs
    /// by name, index.html, manifest.json, report.xlsx, leftovers of killed runs) and at least
    /// index.html or manifest.json. A folder of exports or of anyone's CSV files is not one.
    static func isSiyuFolder(_ names: [String]) -> Bool {
        let known = Set(ReportStage.outputs.map { $0 + ".csv" } + ["index.html", "manifest.json", "report.xlsx"])
        func own(_ n: String) -> Bool { known.contains(n) || n.contains(".tmp-") || n.hasPrefix(".dat.nosync") }
        return names.allSatisfy(own) && (names.isEmpty || names.contains("index.html") || names.contains("manifest.json"))
    }

    /// Creates the run's empty version folder after checking that `output` can be published.
    /// `inputs`: the files the pipeline reads; none may be inside the output folder.
    public func prepare(runID: String, inputs: [String] = []) throws -> String {
        if let problem = Self.problem(output) { throw SiyuError.config(file: output, message: problem) }
        for f in inputs where URL(fileURLWithPath: f).standardizedFileURL.path.hasPrefix(path + "/") {
            throw SiyuError.config(file: output, message: "the output folder holds an input file (\(f)); siyu replaces the output folder with each report: choose an output folder of its own")
        }
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw SiyuError.config(file: parent, message: "cannot create the report's folder (\(ErrorText.describe(error))); check the permissions or choose another output")
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: break
            case S_IFDIR:
                // A report folder written before versioned publishing: replaced on publishing, but
                // only when everything in it is siyu's own.
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                if !Self.isSiyuFolder(names) {
                    let other = names.first { !ReportStage.outputs.map { $0 + ".csv" }.contains($0) && !["index.html", "manifest.json", "report.xlsx"].contains($0) } ?? names.first ?? ""
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
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            // Once, from a plain folder: moved aside, replaced by the link, then removed.
            let aside = (parent as NSString).appendingPathComponent(prefix + "old-\(getpid())")
            guard rename(path, aside) == 0 else {
                unlink(link)
                throw SiyuError.config(file: output, message: "cannot move the old report folder aside (\(String(cString: strerror(errno)))); check the folder's permissions")
            }
        }
        guard rename(link, path) == 0 else {
            let e = errno
            unlink(link)
            throw SiyuError.config(file: output, message: "cannot publish the report (\(String(cString: strerror(e)))); the new report is in \(dir)")
        }
        // Versions older than the previous one go; not a folder another run (another pipeline
        // with the same output) is still writing: only those untouched for ten minutes.
        let now = Date()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        where entry.hasPrefix(prefix) && entry != name && entry != previous {
            let full = (parent as NSString).appendingPathComponent(entry)
            let modified = (try? FileManager.default.attributesOfItem(atPath: full)[.modificationDate] as? Date) ?? now
            if entry.contains(".old-") || now.timeIntervalSince(modified) > 600 { try? FileManager.default.removeItem(atPath: full) }
        }
    }
}
