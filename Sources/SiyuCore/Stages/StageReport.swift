/// What a stage did, for logs, the run manifest and the exit code.
public struct StageReport: Sendable {
    public var stage: String
    public var rowsIn = 0
    public var rowsOut = 0
    public var quarantined = 0
    public var filesIngested = 0
    public var filesSkipped = 0
    /// One clear message per rejected file.
    public var rejected: [String] = []
    public var seconds = 0.0

    public init(stage: String) { self.stage = stage }
}
