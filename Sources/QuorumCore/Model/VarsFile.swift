/// One of a play's `vars_files` as the loader read it: the loader reads and decrypts each file once, and the
/// static checker and the engine both use what it read.
public struct VarsFile: Sendable, Hashable {
    /// The path as written in the playbook (relative to its directory), where it was written.
    public var name: Located<String>
    /// The file's variables in file order, each at its place in the file (in the decrypted text of a vault file).
    public var variables: [NamedValue]
    /// The file was a vault file: every value it holds is a secret.
    public var encrypted: Bool

    public init(name: Located<String>, variables: [NamedValue] = [], encrypted: Bool = false) {
        self.name = name
        self.variables = variables
        self.encrypted = encrypted
    }
}
