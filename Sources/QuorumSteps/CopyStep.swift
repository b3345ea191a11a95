import QuorumCore

/// `copy`: puts a file on the host from inline `content` or a local `src` (under the playbook's `files/`).
/// One `readFile` probe; the content is rewritten (atomically) only when its bytes differ, and mode or
/// ownership alone are fixed by one script without rewriting the file.
public struct CopyStep: StepKind {
    public static let name = "copy"
    public static let summary = "Put a file on the host from inline content or a local file, atomically"
    public static let schema = ArgSchema(
        [
            ArgField("dest", .absolutePath, required: true, "absolute path of the file on the host"),
            ArgField("content", .string, "the file's content, inline"),
            ArgField("src", .string, "a local file, looked up in the playbook's `files/`")
        ] + ManagedFile.attributeFields,
        mutuallyExclusive: [["content", "src"]],
        oneRequired: [["content", "src"]]
    )

    enum Source: Sendable, Equatable {
        case content(String)
        case local(String)
    }

    let source: Source
    let file: ManagedFile

    public init(checked arguments: Arguments) throws {
        switch (try arguments.string("content"), try arguments.string("src")) {
        case (let content?, nil): source = .content(content)
        case (nil, let src?) where !src.isEmpty: source = .local(src)
        case (nil, _): throw StepFailure("one of `content` or `src` is required")
        case (_?, _?): throw StepFailure("`content` and `src` cannot both be given")
        }
        file = try ManagedFile(arguments: arguments)
    }

    public var plannedReads: [RemoteRead] { [.file(file.dest)] }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let bytes: [UInt8]
        switch source {
        case .content(let text): bytes = Array(text.utf8)
        case .local(let name): bytes = try context.files.read(name)
        }
        return try await file.sync(bytes, context)
    }
}
