/// A play's `vars_files`, read when the playbook is loaded.
extension PlaybookLoader {
    /// Reads `name` (relative to the playbook's `directory`), decrypting a vault file with the loader's keyring.
    /// A file that cannot be read or does not hold a map is an error at the file's own location; the play then
    /// gets no variables from it.
    func readVarsFile(
        _ name: Located<String>, relativeTo directory: String,
        _ diagnostics: inout DiagnosticCollector
    ) -> VarsFile {
        var file = VarsFile(name: name)
        let path = FileSystem.resolve(name.value, relativeTo: directory)
        do {
            let (root, encrypted) = try VaultFiles.load(path, vault: vault)
            file.encrypted = encrypted
            guard let root else { return file }
            guard let entries = root.entries else {
                diagnostics.error("vars file must hold a map of variables, found a \(root.shapeName)", at: root.location)
                return file
            }
            file.variables = entries.map { NamedValue(name: $0.name, value: $0.value.value, location: $0.value.location) }
        } catch {
            diagnostics.append(contentsOf: error.diagnostics)
        }
        return file
    }
}
