import Foundation

/// Errors a person can act on: each names the file (and line and column where known) and the next step.
public enum SiyuError: Error, CustomStringConvertible {
    case input(file: String, line: Int?, column: Int?, message: String)
    case config(file: String, message: String)
    case stageOrder(stage: String, message: String)
    case locked(message: String)
    case internalError(String)

    public var description: String {
        switch self {
        case let .input(file, line, column, message):
            var loc = file
            if let line { loc += ":\(line)" }
            if let column { loc += ":\(column)" }
            return "\(loc): error: \(message)"
        case let .config(file, message): return "\(file): error: \(message)"
        case let .stageOrder(_, message): return message
        case let .locked(message): return message
        case let .internalError(m): return "internal error: \(m)"
        }
    }
}

/// Errors from Foundation and the system in words a person can act on: the path, what went
/// wrong, never a raw `NSCocoaErrorDomain Code=…` dump.
public enum ErrorText {
    public static func describe(_ error: Error) -> String {
        switch error {
        case let e as SiyuError: return e.description
        case let e as SQLiteError: return e.description
        case let e as DecodeError: return e.description
        case let e as StageFailure: return e.description
        default: break
        }
        let ns = error as NSError
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        var reason: String
        if let posix = (ns.userInfo[NSUnderlyingErrorKey] as? NSError), posix.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(posix.code)))
        } else if ns.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(ns.code)))
        } else if ns.domain == NSCocoaErrorDomain {
            switch ns.code {
            case NSFileWriteFileExistsError: reason = "a file or folder of that name is in the way"
            case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: reason = "permission denied"
            case NSFileWriteOutOfSpaceError: reason = "the disk is full"
            case NSFileNoSuchFileError, NSFileReadNoSuchFileError: reason = "no such file or folder"
            case NSFileWriteVolumeReadOnlyError: reason = "the disk is read-only"
            default: reason = ns.localizedDescription
            }
        } else {
            reason = ns.localizedDescription
        }
        return path.map { "\($0): \(reason)" } ?? reason
    }
}

/// A stage failed for a reason that is not about one input file: says which stage, and what.
public struct StageFailure: Error, CustomStringConvertible {
    public let stage: String
    public let underlying: Error
    public var description: String { "stage \(stage): \(ErrorText.describe(underlying))" }
}
