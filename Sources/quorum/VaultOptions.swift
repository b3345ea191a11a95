import ArgumentParser
import Foundation
import QuorumCore
import QuorumVault

/// Where the vault passwords come from, shared by `apply`, `validate`, `inventory` and `quorum vault …`:
/// the passphrase from `--vault-password-file F`, else `--ask-vault-password` (a prompt on the terminal, no
/// echo), else the environment variable `QUORUM_VAULT_PASSWORD`; and any number of `--vault-id LABEL@SOURCE`
/// (Ansible's option: SOURCE is a password file or `prompt`). A password file that is executable is run, as
/// Ansible does, and the first line of its output is the password.
struct VaultOptions: ParsableArguments {
    static let environmentVariable = "QUORUM_VAULT_PASSWORD"

    @Option(
        name: .customLong("vault-password-file"),
        help: "Read the vault passphrase from this file (trailing newlines are ignored); an executable file is run and the first line of its output used.")
    var vaultPasswordFile: String?

    @Flag(name: .customLong("ask-vault-password"), help: "Prompt for the vault passphrase on the terminal.")
    var askVaultPassword = false

    @Option(
        name: .customLong("vault-id"),
        help: ArgumentHelp(
            "A vault password with its label, as in Ansible: LABEL@FILE, LABEL@prompt, or FILE (label `default`). Repeatable; an Ansible 1.2 vault tries the id it names first.",
            valueName: "label@source"))
    var vaultIDs: [String] = []

    /// The passphrase from the file, the prompt or the environment; nil when none of them gives one.
    func givenPassphrase(confirm: Bool = false) throws -> VaultPassphrase? {
        if let vaultPasswordFile { return try Self.passphrase(fromFile: vaultPasswordFile) }
        if askVaultPassword { return try Passphrase.prompt("Vault passphrase: ", confirm: confirm) }
        if let value = ProcessInfo.processInfo.environment[Self.environmentVariable], !value.isEmpty {
            return VaultPassphrase(value)
        }
        return nil
    }

    /// The `--vault-id` passwords, in the order given (prompting for `LABEL@prompt`).
    func identities() throws -> [VaultIdentity] {
        try vaultIDs.map { spec -> VaultIdentity in
            let (label, source) = Self.split(vaultID: spec)
            guard !source.isEmpty else { throw VaultCLI.failure("--vault-id \(spec): give LABEL@FILE or LABEL@prompt") }
            let passphrase =
                source == "prompt"
                ? try Passphrase.prompt("Vault password (\(label)): ", confirm: false)
                : try Self.passphrase(fromFile: source, label: label)
            return VaultIdentity(label: label, passphrase: passphrase)
        }
    }

    /// `label@source` split at the first `@` (as Ansible does); no `@`, or nothing before it: label `default`.
    static func split(vaultID spec: String) -> (label: String, source: String) {
        guard let at = spec.firstIndex(of: "@") else { return (VaultIdentity.defaultLabel, spec) }
        let label = String(spec[..<at])
        return (label.isEmpty ? VaultIdentity.defaultLabel : label, String(spec[spec.index(after: at)...]))
    }

    /// For `apply`, `validate` and `inventory`: a keyring, with no password when none was given (a vault
    /// file then gives a diagnostic naming it).
    func keyring() throws -> VaultKeyring {
        VaultKeyring(passphrase: try givenPassphrase(), identities: try identities())
    }

    /// For `quorum vault …`: a passphrase is needed, so when none was given, the first `--vault-id`'s
    /// password, else ask on the terminal.
    func requiredPassphrase(confirm: Bool) throws -> VaultPassphrase {
        if let given = try givenPassphrase(confirm: confirm) { return given }
        if let first = try identities().first { return first.passphrase }
        return try Passphrase.prompt("Vault passphrase: ", confirm: confirm)
    }

    /// For reading Ansible vaults in `quorum vault …`: every password given, asking on the terminal when none was.
    func requiredKeyring() throws -> VaultKeyring {
        let keyring = try keyring()
        if keyring.hasPassphrase { return keyring }
        return VaultKeyring(passphrase: try Passphrase.prompt("Vault password: ", confirm: false))
    }

    /// The password in `path`; an executable file is run (with `--vault-id LABEL` when its name ends in
    /// `-client`, like Ansible's client scripts) and the first line of its standard output is the password.
    static func passphrase(fromFile path: String, label: String = VaultIdentity.defaultLabel) throws -> VaultPassphrase {
        guard !FileSystem.isDirectory(path), FileSystem.exists(path) else {
            throw VaultCLI.failure("cannot read the vault password file \(path)")
        }
        var bytes: [UInt8]
        let script = FileManager.default.isExecutableFile(atPath: path)
        if script {
            bytes = try runScript(path, label: label)
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) { bytes = Array(bytes[..<newline]) }
        } else {
            guard let read = FileSystem.read(path) else { throw VaultCLI.failure("cannot read the vault password file \(path)") }
            bytes = read
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else {
            throw VaultCLI.failure(script ? "the vault password script \(path) printed no password" : "the vault password file \(path) is empty")
        }
        return VaultPassphrase(bytes: bytes)
    }

    /// Runs an executable password file with the operator's stdin and stderr (it may ask for something) and
    /// returns its standard output.
    private static func runScript(_ path: String, label: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        process.arguments = name.hasSuffix("-client") ? ["--vault-id", label] : []
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw VaultCLI.failure("cannot run the vault password script \(path): \(error.localizedDescription)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw VaultCLI.failure("the vault password script \(path) failed (status \(process.terminationStatus)); no password")
        }
        return [UInt8](data)
    }
}
