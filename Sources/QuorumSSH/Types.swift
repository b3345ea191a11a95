/// Where to connect and as whom.
public struct SSHEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String

    public init(host: String, port: Int = 22, user: String) {
        self.host = host
        self.port = port
        self.user = user
    }

    /// `host:port`, with brackets around IPv6 literals.
    public var hostPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "\(user)@\(hostPort)" }
}

/// One way of proving who we are; `SSHConnection.connect` tries them in the order given.
public enum SSHAuthMethod: Sendable {
    /// An ed25519 or ECDSA private key (libssh2 1.10 cannot make the RSA signatures OpenSSH >= 8.8 accepts).
    /// The public key is read from `path + ".pub"` when that file exists, otherwise derived from the private key.
    case keyFile(path: String, passphrase: String?)
    /// The identities of the ssh-agent named by `SSH_AUTH_SOCK` (read from the environment at connect time).
    case agent
    /// Password authentication, falling back to keyboard-interactive when the server only offers that.
    case password(String)
}

/// How server host keys are checked against OpenSSH `known_hosts` files.
public struct HostKeyPolicy: Sendable {
    /// The user's and the global files, all consulted (see `KnownHosts`): plain, wildcard, `[host]:port` and
    /// hashed (`|1|salt|hash`) entries, `@revoked` keys (refused) and `@cert-authority` lines (unsupported).
    public var knownHostsFiles: [String]
    /// An unknown host is refused unless this is true; then its key is appended to `recordFile`.
    public var acceptNew: Bool
    /// Where newly accepted keys are appended (one line each; the file is never rewritten).
    public var recordFile: String
    /// `HostKeyAlias`: the name to look up and record instead of `host`/`[host]:port`.
    public var hostKeyAlias: String?

    public init(knownHostsFiles: [String], acceptNew: Bool = false, recordFile: String? = nil) {
        self.knownHostsFiles = knownHostsFiles
        self.acceptNew = acceptNew
        self.recordFile = recordFile ?? knownHostsFiles.first ?? ""
    }
}

/// Connection tuning.
public struct SSHOptions: Sendable {
    /// Bound for the TCP connection (name resolution excluded).
    public var connectTimeout: Duration = .seconds(10)
    /// Bound for the SSH handshake, host key check and authentication together.
    public var loginTimeout: Duration = .seconds(30)
    /// Seconds between keepalive requests; 0 disables keepalives (and with them dead-peer detection). sshd itself
    /// answers them, so a command that prints nothing for minutes keeps its connection alive.
    public var keepaliveInterval: Int = 3
    /// The connection counts as dead when nothing arrived from the server for
    /// `keepaliveInterval * keepaliveCountMax` seconds (plus two seconds) while we wait for it: 11 s by default,
    /// so a cut link is named within 15 s.
    public var keepaliveCountMax: Int = 3
    /// Told what the session has to say beside its results (see `SSHNote`); nil: nobody listens.
    public var notes: (@Sendable (SSHNote) -> Void)?

    public init(
        connectTimeout: Duration = .seconds(10), loginTimeout: Duration = .seconds(30),
        keepaliveInterval: Int = 3, keepaliveCountMax: Int = 3
    ) {
        self.connectTimeout = connectTimeout
        self.loginTimeout = loginTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveCountMax = keepaliveCountMax
    }
}

/// What a remote command produced. Bytes are kept as received; decode them when needed.
public struct CommandOutput: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// The remote exit status; -1 when the command was killed by a signal (see `exitSignal`).
    /// libssh2 1.10 cannot tell "exited 0" from "no exit status was sent" (e.g. sshd `ChannelTimeout`).
    public var exitStatus: Int32
    /// The signal name without "SIG" (e.g. "KILL") when the command was killed by a signal.
    public var exitSignal: String?

    public init(stdout: [UInt8], stderr: [UInt8], exitStatus: Int32, exitSignal: String?) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
    }

    /// stdout decoded as UTF-8 (invalid sequences replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr decoded as UTF-8 (invalid sequences replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
