import ArgumentParser
import Foundation
import QuorumCore
import QuorumVault

/// `quorum vault genpwd FILE`: fill every empty value of a YAML secrets file with a random password, like
/// kolla-ansible's `kolla-genpwd`.
struct VaultGenpwdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genpwd",
        abstract: "Fill every empty value of a YAML secrets file with a strong random password.",
        discussion: """
            Values written `key:`, `key: ~`, `key: null`, `key: ""` or `key: ''` (in maps, at any depth) get a random \
            password from the system's secure random generator; every other value is kept. The file is edited line \
            by line, so comments, order and quoting stay as written; an empty value written otherwise (inside \
            `{…}` flow maps, say) is an error naming its line, and nothing is written. A password is written plain \
            when YAML reads it back as that string, else double-quoted. The file is replaced atomically, mode 0600. \
            A Quorum vault file is decrypted, filled and encrypted again under the same passphrase; an Ansible Vault \
            file must be converted first (`quorum vault rekey --from-ansible`). Only the names filled are printed.
            """)

    @Argument(help: "The YAML secrets file (plain, or a Quorum vault file).")
    var file: String

    @Option(help: "Length of each password.")
    var length = PasswordFiller.defaultLength

    @Option(help: "Characters the passwords are drawn from (default: letters and digits).")
    var alphabet = PasswordFiller.defaultAlphabet

    @OptionGroup var vault: VaultOptions

    func validate() throws {
        let distinct = Set(alphabet)
        guard !alphabet.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) else {
            throw ValidationError("--alphabet must not hold spaces or control characters")
        }
        guard distinct.count >= 2, length >= 1 else { throw ValidationError("--alphabet needs two characters or more and --length 1 or more") }
        // Below 64 bits of entropy a password is not strong.
        let bits = Double(length) * log2(Double(distinct.count))
        guard bits >= 64 else {
            throw ValidationError("passwords of \(length) characters from \(distinct.count) would have \(Int(bits)) bits of entropy; 64 at least")
        }
    }

    func run() async throws {
        let bytes = try VaultCLI.readBytes(file)
        guard !AnsibleVaultFormat.isVault(bytes: bytes) else {
            throw VaultCLI.failure("\(file) is an Ansible Vault file: convert it first with `quorum vault rekey --from-ansible \(file)`")
        }
        let encrypted = VaultFormat.isVault(bytes: bytes)
        var passphrase: VaultPassphrase?
        var text = String(decoding: bytes, as: UTF8.self)
        if encrypted {
            let key = try vault.requiredPassphrase(confirm: false)
            text = String(decoding: try VaultCLI.decrypt(text, path: file, passphrase: key), as: UTF8.self)
            passphrase = key
        }
        var generator = SystemRandomNumberGenerator()
        let result: PasswordFiller.Result
        do {
            result = try PasswordFiller.fill(
                text, path: file, length: length, alphabet: String(Array(Set(alphabet)).sorted()),
                using: &generator)
        } catch {
            Frontend.printError(error.diagnostics.map(\.description).joined(separator: "\n"))
            throw VaultCLI.failure("nothing written to \(file)")
        }
        guard !result.filled.isEmpty else {
            VaultCLI.say("\(file) has no empty value; nothing written")
            return
        }
        var output = Array(result.text.utf8)
        if let passphrase { output = try VaultCLI.encrypt(output, passphrase: passphrase) }
        try VaultCLI.writeAtomically(output, to: file, mode: 0o600)
        VaultCLI.say("filled \(result.filled.count) empty value\(result.filled.count == 1 ? "" : "s") in \(file): \(result.filled.joined(separator: ", "))")
    }
}
