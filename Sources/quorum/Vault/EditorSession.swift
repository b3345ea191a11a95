import Foundation
import QuorumCore

#if canImport(Glibc)
    import Glibc
#endif

/// Lets the operator edit plaintext in `$EDITOR` (default `vi`): the text goes into a 0600 file inside a
/// fresh 0700 directory (under `$TMPDIR`, else `/dev/shm` so it stays in memory, else `/tmp`), and the
/// directory (with any swap or backup file the editor left) is removed afterwards, whatever happened.
enum EditorSession {
    /// The edited bytes. Throws (exit 1) when the editor cannot start or exits with a failure.
    static func edit(_ content: [UInt8], fileName: String) throws -> [UInt8] {
        let directory = try privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + fileName
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultCLI.failure("cannot create a temporary file: \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, 0o600)
        var written = 0
        while written < content.count {
            let n = content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else {
                close(fd)
                throw VaultCLI.failure("cannot write a temporary file: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        close(fd)

        let editor = ProcessInfo.processInfo.environment["EDITOR"].flatMap { $0.isEmpty ? nil : $0 } ?? "vi"
        let status = try run(editor: editor, path: path)
        guard status == 0 else { throw VaultCLI.failure("the editor (`\(editor)`) exited with status \(status)") }
        guard let edited = FileSystem.read(path) else { throw VaultCLI.failure("the editor left no file behind") }
        return edited
    }

    private static func privateDirectory() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let base: String
        if let tmp = environment["TMPDIR"], !tmp.isEmpty {
            base = tmp
        } else if access("/dev/shm", W_OK | X_OK) == 0, FileSystem.isDirectory("/dev/shm") {
            base = "/dev/shm"
        } else {
            base = "/tmp"
        }
        var template = Array(((base.hasSuffix("/") ? String(base.dropLast()) : base) + "/quorum-vault-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw VaultCLI.failure("cannot create a private temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        _ = chmod(directory, 0o700)
        return directory
    }

    /// Runs `sh -c '$EDITOR "$1"' sh PATH` on the operator's terminal and waits; like system(3), Quorum
    /// ignores Ctrl-C while the editor runs (the editor gets it), so the temporary file is always removed.
    private static func run(editor: String, path: String) throws -> Int32 {
        let argv = ["/bin/sh", "-c", editor + " \"$1\"", "sh", path]
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArgs { free(pointer) } }
        let previousInt = signal(SIGINT, SIG_IGN)
        let previousQuit = signal(SIGQUIT, SIG_IGN)
        defer {
            signal(SIGINT, previousInt)
            signal(SIGQUIT, previousQuit)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGQUIT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, &attributes, &cArgs, environ)
        guard spawned == 0 else { throw VaultCLI.failure("cannot start the editor: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw VaultCLI.failure("lost the editor: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS by hand: the macros are not imported.
        let signalled = status & 0x7f
        return signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
    }
}
