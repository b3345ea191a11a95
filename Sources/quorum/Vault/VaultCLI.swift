import ArgumentParser
import Foundation
import QuorumCore
import QuorumVault

#if canImport(Glibc)
    import Glibc
#endif

/// What the `quorum vault …` subcommands share: errors, reading a vault file, decrypting with the
/// operator's passphrase, and writing files atomically on the operator's machine.
enum VaultCLI {
    /// Prints `error: MESSAGE` on stderr and gives exit status 1.
    static func failure(_ message: String) -> ExitCode {
        Frontend.printError("error: \(message)")
        return ExitCode(1)
    }

    static func readBytes(_ path: String) throws -> [UInt8] {
        guard !FileSystem.isDirectory(path), let bytes = FileSystem.read(path) else {
            throw failure("cannot read \(path)")
        }
        return bytes
    }

    /// The text of the vault file at `path` (checked before any passphrase is asked for).
    static func readVault(_ path: String) throws -> String {
        let bytes = try readBytes(path)
        guard VaultFormat.isVault(bytes: bytes) else {
            throw failure(
                "\(path) is not a Quorum vault file"
                    + (AnsibleVaultFormat.isVault(bytes: bytes)
                        ? " (it is an Ansible Vault file: `quorum vault view` reads it, `quorum vault rekey --from-ansible` converts it)" : ""))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The plaintext of a vault file's `text`; nothing is written anywhere when this fails.
    static func decrypt(_ text: String, path: String, passphrase: VaultPassphrase) throws -> [UInt8] {
        do {
            return try VaultFormat.decrypt(text, passphrase: passphrase)
        } catch {
            throw failure("cannot decrypt \(path): \(error)")
        }
    }

    /// The plaintext of the Ansible vault file at `path`, opened with every password `vault` gives.
    static func decryptAnsible(_ path: String, vault: VaultOptions) throws -> [UInt8] {
        let bytes = try readBytes(path)
        guard AnsibleVaultFormat.isVault(bytes: bytes) else {
            throw failure("\(path) is not an Ansible Vault file (no `\(AnsibleVaultFormat.magic)` header)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try AnsibleVaultFormat.header(of: text)
        } catch {
            throw failure("cannot decrypt \(path): \(error)")
        }
        do {
            return try vault.requiredKeyring().decryptAnsible(text)
        } catch let error as VaultError {
            throw failure("cannot decrypt \(path): \(error)")
        }
    }

    /// A status line on stderr (stdout is for `view`).
    static func say(_ text: String) {
        Frontend.printError(text)
    }

    static func encrypt(_ plaintext: [UInt8], passphrase: VaultPassphrase) throws -> [UInt8] {
        do {
            return Array(try VaultFormat.encrypt(plaintext, passphrase: passphrase).utf8)
        } catch {
            throw failure("cannot encrypt: \(error)")
        }
    }

    /// Replaces (or creates) `path` with `bytes`: a temporary file in the same directory gets the mode
    /// (the old file's, or 0600 for a new one) and owner before it is renamed over the target, so the
    /// target is never half-written and never readable by others for a moment. A symbolic link is followed.
    /// `mode` given: the file gets that mode whatever it had (0600 for a file of secrets).
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode forcedMode: mode_t? = nil) throws {
        var target = path
        if let resolved = realpath(path, nil) {
            target = String(cString: resolved)
            free(resolved)
        }
        var mode: mode_t = 0o600
        var owner: (uid_t, gid_t)?
        var info = stat()
        if stat(target, &info) == 0 {
            mode = info.st_mode & 0o7777
            owner = (info.st_uid, info.st_gid)
        }
        if let forcedMode { mode = forcedMode }
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/.\(name).quorum-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("cannot write \(path): \(String(cString: strerror(errno)))") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var done = false
        defer {
            if !done { unlink(temporary) }
        }
        func check(_ ok: Bool, _ what: String) throws {
            if !ok {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw failure("cannot write \(path): \(what): \(reason)")
            }
        }
        try check(fchmod(fd, mode) == 0, "chmod")
        if let owner, owner.0 != geteuid() || owner.1 != getegid() { _ = fchown(fd, owner.0, owner.1) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            try check(n > 0, "write")
            written += n
        }
        try check(fsync(fd) == 0, "fsync")
        guard close(fd) == 0 else { throw failure("cannot write \(path): close: \(String(cString: strerror(errno)))") }
        guard rename(temporary, target) == 0 else { throw failure("cannot write \(path): rename: \(String(cString: strerror(errno)))") }
        done = true
    }
}
