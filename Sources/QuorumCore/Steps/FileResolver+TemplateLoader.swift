import QuorumTemplates

/// `{% include 'name' %}` in a template file finds `name` as the `template` step finds its `src`.
extension FileResolver: TemplateLoader {
    public func loadTemplate(_ name: String) throws -> LoadedTemplate {
        let path: String
        do {
            path = try resolve(name)
        } catch let failure as StepFailure {
            throw TemplateError(message: failure.message, location: nil)
        }
        guard let text = FileSystem.readText(path) else { throw TemplateError(message: "cannot read \(path)", location: nil) }
        return LoadedTemplate(path: path, text: text)
    }
}
