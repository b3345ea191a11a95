import QuorumCore

/// `template`: renders a local template (looked up like `copy`'s `src`, as are the files it `include`s) with
/// the host's variables and puts the result on the host like `copy`: one `readFile` probe, an atomic write
/// only when the bytes differ, `validate` run on the new file before it replaces the old one.
public struct TemplateStep: StepKind {
    public static let name = "template"
    public static let summary = "Render a template with the host's variables and put it on the host, validated and atomically"
    public static let schema = ArgSchema(
        [
            ArgField("src", .string, required: true, "the template, looked up in the playbook's `files/`"),
            ArgField("dest", .absolutePath, required: true, "absolute path of the file on the host")
        ] + ManagedFile.attributeFields
    )

    let src: String
    let file: ManagedFile

    public init(checked arguments: Arguments) throws {
        src = try arguments.requiredString("src")
        file = try ManagedFile(arguments: arguments)
    }

    public var plannedReads: [RemoteRead] { [.file(file.dest)] }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let path = try context.files.resolve(src)
        guard let bytes = FileSystem.read(path) else { throw StepFailure("cannot read template \(path)") }
        let rendered = try context.templates.render(
            String(decoding: bytes, as: UTF8.self),
            at: SourceLocation(file: path, line: 1, column: 1),
            variables: context.variables, includes: context.files)
        return try await file.sync(Array(rendered.utf8), context)
    }
}
