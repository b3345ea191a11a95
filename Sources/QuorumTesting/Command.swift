import Foundation
import Synchronization

/// Runs local programs and captures their output.
public enum Command {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `argv` (looked up on PATH through `/usr/bin/env`), in `directory` when given, writing `stdin` to it,
    /// and waits for it.
    public static func run(
        _ argv: [String], stdin: String = "", environment: [String: String]? = nil,
        directory: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = try capture(process, stdin: Data(stdin.utf8))
        return Result(
            status: output.status, stdout: String(decoding: output.stdout, as: UTF8.self),
            stderr: String(decoding: output.stderr, as: UTF8.self))
    }

    /// Starts `process` with pipes for its three streams, writes `stdin`, and waits for it to end.
    static func capture(_ process: Process, stdin: Data) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Write stdin and read stderr on other threads while this one reads stdout, so a chatty child cannot block.
        let inputHandle = input.fileHandleForWriting
        DispatchQueue.global().async { feed(stdin, to: inputHandle) }
        let errorBytes = Mutex(Data())
        let errorsRead = DispatchSemaphore(value: 0)
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async {
            let data = errorHandle.readDataToEndOfFile()
            errorBytes.withLock { $0 = data }
            errorsRead.signal()
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        return (process.terminationStatus, out, errorBytes.withLock { $0 })
    }

    /// Writes `data` to a child's stdin and closes it. A program that ends before reading its stdin closes the
    /// pipe: a broken pipe is not an error, and must not kill the test process. The test process cannot simply
    /// ignore SIGPIPE, as `quorum` does, because its children would inherit that; so the signal is blocked on this
    /// thread for the write, and one it raised is taken before the thread's mask is restored.
    public static func feed(_ data: Data, to handle: FileHandle) {
        var brokenPipe = sigset_t()
        sigemptyset(&brokenPipe)
        sigaddset(&brokenPipe, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &brokenPipe, &previous)
        try? handle.write(contentsOf: data)
        try? handle.close()
        var pending = sigset_t()
        if sigpending(&pending) == 0, sigismember(&pending, SIGPIPE) == 1 {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&brokenPipe, nil, &now)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }
}
