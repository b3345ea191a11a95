import OrderedCollections
import QuorumCore
import QuorumMySQL

/// The shared `login` argument of the MySQL step kinds: the database *as the controller sees it* (usually
/// the VIP), the admin account, and how to reach it: `via: tunnel` (default) opens an SSH `direct-tcpip`
/// tunnel through the host's own session, `via: direct` connects from the machine running Quorum.
/// Usually set once per play: `defaults: {mysql: {login: {…}}}`.
public struct MySQLLogin: Sendable {
    public enum Via: String, Sendable, CaseIterable { case tunnel, direct }

    public static let schema = ArgSchema([
        ArgField("host", .string, "the database's address as the controller sees it (default 127.0.0.1)"),
        ArgField("port", .intRange(1...65535), "TCP port (default 3306)"),
        ArgField("user", .string, "admin account (default root)"),
        ArgField("password", .string, secret: true, "admin password"),
        ArgField("via", .choice(Via.allCases.map(\.rawValue)), "tunnel (default): through the host's SSH session; direct: from this machine"),
        ArgField("connect_timeout", .intRange(1...3600), "seconds (default 10)")
    ])

    /// The `login` field, to put in each MySQL step kind's schema.
    public static let field = ArgField("login", .object(schema), "connection to the database (usually from the play's `defaults: {mysql: {login: …}}`)")

    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var via: Via
    public var connectTimeout: UInt32

    /// Reads `login` from a step's arguments (all of it optional).
    public init(arguments: Arguments) throws {
        let login = Arguments(try arguments.map("login") ?? [:], location: arguments.location)
        host = try login.string("host") ?? "127.0.0.1"
        port = try login.int("port") ?? 3306
        user = try login.string("user") ?? "root"
        password = try login.string("password") ?? ""
        via = try login.choice("via", Via.allCases.map(\.rawValue)).flatMap(Via.init(rawValue:)) ?? .tunnel
        connectTimeout = UInt32(try login.int("connect_timeout") ?? 10)
        guard !host.isEmpty,
            host.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0)
                    || ("0"..."9").contains($0) || ".-:_".unicodeScalars.contains($0)
            })
        else {
            throw StepFailure("`login.host` must be a host name or an IP address")
        }
        guard !user.isEmpty, !user.contains("\0") else { throw StepFailure("`login.user` must not be empty") }
    }

    /// "10.21.22.2:3306 as quorum_admin through an SSH tunnel from ctl1" (never the password).
    func describe(from host: String) -> String {
        "\(self.host):\(port) as \(user) " + (via == .tunnel ? "through an SSH tunnel from \(host)" : "directly from this machine, for \(host)")
    }

    /// The connection of this run for this host and login (created once, shared by the steps, closed at the
    /// end of the run). Read-only in check mode: no statement that changes anything can be sent.
    func connection(_ context: StepContext) async throws -> MySQLConnection {
        let key = "mysql\u{1F}\(context.host)\u{1F}\(via.rawValue)\u{1F}\(host):\(port)\u{1F}\(user)\u{1F}\(password.hashValue)\u{1F}\(context.check)"
        let session = try await context.cache.value(key, as: MySQLSession.self) { [self] in
            MySQLSession(try await open(context))
        }
        return session.connection
    }

    private func open(_ context: StepContext) async throws -> MySQLConnection {
        var target = host
        var targetPort = port
        if via == .tunnel {
            do {
                targetPort = try await context.remote.tunnel(to: host, port: port)
            } catch {
                throw StepFailure(
                    "cannot open an SSH tunnel from \(context.host) to \(host):\(port)",
                    detail: MySQLLogin.tunnelHint(String(describing: error), from: context.host))
            }
            target = "127.0.0.1"  // TCP to the tunnel's listener ("localhost" would mean the Unix socket)
        }
        let endpoint = MySQLEndpoint(
            host: target, port: targetPort, user: user, password: password,
            connectTimeout: connectTimeout)
        do {
            return try await MySQLConnection.connect(endpoint, readOnly: context.check, label: "\(host):\(port) via \(context.host)")
        } catch let error as MySQLError {
            var detail = error.description
            if via == .tunnel && error.isUnreachable {
                detail +=
                    "; the tunnel reached \(context.host) but not the database: is MariaDB running and listening on \(host):\(port) as \(context.host) sees it, and does \(context.host)'s sshd allow forwarding (AllowTcpForwarding, PermitOpen)?"
            }
            throw StepFailure("cannot log in to MySQL at \(describe(from: context.host))", detail: detail)
        }
    }

    /// A tunnel error, with the sshd setting to look at when the server refused the channel.
    static func tunnelHint(_ message: String, from host: String) -> String {
        let lower = message.lowercased()
        let refused = ["prohibit", "administratively", "forwarding refused", "denied"].contains { lower.contains($0) }
        guard refused, !lower.contains("allowtcpforwarding") else { return message }
        return message + " (\(host)'s sshd may refuse TCP forwarding: check AllowTcpForwarding and PermitOpen in its sshd_config)"
    }
}

/// The cached connection; closed by the engine at the end of the run.
struct MySQLSession: RunResource {
    let connection: MySQLConnection

    init(_ connection: MySQLConnection) { self.connection = connection }

    func close() async { await connection.close() }
}

/// Statements with errors translated for the step's report (the engine adds host and step).
enum MySQLRun {
    static func read(_ db: MySQLConnection, _ sql: String, _ what: @autoclosure () -> String, secret: Bool = false) async throws -> MySQLRows {
        do {
            return try await db.query(sql, secret: secret)
        } catch let error as MySQLError {
            throw StepFailure("MySQL: \(what()) failed", detail: error.description)
        }
    }

    static func change(_ db: MySQLConnection, _ sql: String, _ what: @autoclosure () -> String, secret: Bool = false) async throws {
        do {
            try await db.execute(sql, secret: secret)
        } catch let error as MySQLError {
            throw StepFailure("MySQL: \(what()) failed", detail: error.description)
        }
    }

    static func literal(_ db: MySQLConnection, _ text: String) async throws -> String {
        do {
            return try await db.literal(text)
        } catch let error as MySQLError {
            throw StepFailure("MySQL: cannot escape a value", detail: error.description)
        }
    }

    /// An identifier check made before connecting; the message names what is wrong.
    static func validate(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as MySQLError {
            throw StepFailure(error.message + " (refused before connecting to the database)")
        }
    }
}
