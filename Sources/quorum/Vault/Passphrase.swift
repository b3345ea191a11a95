import Foundation
import QuorumVault

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a passphrase from the controlling terminal with echo off; the terminal's settings come back
/// even when the operator presses Ctrl-C at the prompt.
enum Passphrase {
    /// The terminal's settings while echo is off, for the signal handler.
    nonisolated(unsafe) private static var saved: (fd: Int32, state: termios)?

    static func prompt(_ text: String, confirm: Bool) throws -> VaultPassphrase {
        let first = try read(text)
        guard !first.isEmpty else { throw VaultCLI.failure("an empty vault passphrase is not allowed") }
        if confirm {
            let second = try read("Again, to confirm: ")
            guard first == second else { throw VaultCLI.failure("the passphrases do not match; nothing written") }
        }
        return VaultPassphrase(bytes: first)
    }

    private static func read(_ prompt: String) throws -> [UInt8] {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw VaultCLI.failure("no terminal to ask for the vault passphrase: give --vault-password-file FILE or set \(VaultOptions.environmentVariable)")
        }
        defer { close(fd) }
        write(fd, prompt)
        var original = termios()
        let isTerminal = tcgetattr(fd, &original) == 0
        if isTerminal {
            var quiet = original
            quiet.c_lflag &= ~tcflag_t(ECHO)
            saved = (fd, original)
            let previousInt = signal(SIGINT, restoreAndReraise)
            let previousTerm = signal(SIGTERM, restoreAndReraise)
            let previousHup = signal(SIGHUP, restoreAndReraise)
            tcsetattr(fd, TCSAFLUSH, &quiet)
            defer {
                tcsetattr(fd, TCSAFLUSH, &original)
                saved = nil
                signal(SIGINT, previousInt)
                signal(SIGTERM, previousTerm)
                signal(SIGHUP, previousHup)
                write(fd, "\n")
            }
            return readLine(fd)
        }
        return readLine(fd)
    }

    private static func readLine(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(fd, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return bytes
    }

    private static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    private static let restoreAndReraise: @convention(c) (Int32) -> Void = { signalNumber in
        if var state = Passphrase.saved {
            tcsetattr(state.fd, TCSANOW, &state.state)
        }
        signal(signalNumber, SIG_DFL)
        raise(signalNumber)
    }
}
