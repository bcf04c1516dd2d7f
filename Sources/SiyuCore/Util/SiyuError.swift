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
