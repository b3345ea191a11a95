import CMariaDB
import QuorumThreading

/// Where and as whom to connect. `host` is always reached over TCP: "localhost" (which the client would
/// take for the Unix socket) is replaced by 127.0.0.1.
public struct MySQLEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    /// Seconds (the C API takes `unsigned int`).
    public var connectTimeout: UInt32
    public var readTimeout: UInt32
    public var writeTimeout: UInt32

    public init(
        host: String, port: Int, user: String, password: String,
        connectTimeout: UInt32 = 10, readTimeout: UInt32 = 60, writeTimeout: UInt32 = 60
    ) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
        self.user = user
        self.password = password
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
    }
}

/// Rows of a result set; `nil` is SQL NULL.
public typealias MySQLRows = [[String?]]

/// One MariaDB/MySQL connection (MariaDB Connector/C), confined to a dedicated thread of its own: every
/// C call runs on that thread, never on Swift's cooperative pool.
///
/// Statements go through two doors: `query` only accepts statements that read (`SELECT`, `SHOW`), `execute`
/// is for statements that change state and is refused on a read-only connection (check mode), before
/// anything is sent. `statistics` counts what was sent through each door, for tests.
///
/// Options: utf8mb4 set before connecting (so escaping knows the charset), TCP only, timeouts as
/// `unsigned int`, `MYSQL_OPT_RECONNECT` off (a silent reconnect would drop session state), and no
/// multi-statements (a `;` in a value can never start a second statement).
public actor MySQLConnection {
    public struct Statistics: Sendable, Equatable {
        /// Statements sent through `query`.
        public var reads = 0
        /// Statements sent through `execute`.
        public var changes = 0
        /// `execute` calls refused because the connection is read-only.
        public var refused = 0

        public init(reads: Int = 0, changes: Int = 0, refused: Int = 0) {
            self.reads = reads
            self.changes = changes
            self.refused = refused
        }
    }

    public let readOnly: Bool
    /// For messages: e.g. "10.21.22.2:3306 through ctl1".
    public let label: String
    public private(set) var statistics = Statistics()

    private let executor: ThreadExecutor
    private var handle: UnsafeMutablePointer<MYSQL>?

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(readOnly: Bool, label: String) {
        self.readOnly = readOnly
        self.label = label
        // The thread ends with mysql_thread_end (Connector/C's per-thread state).
        executor = ThreadExecutor(name: "mysql " + label, onExit: { quorum_mysql_thread_end() })
    }

    /// Connects and logs in; throws `MySQLError` (kind `.connect`) with the library's message.
    public static func connect(_ endpoint: MySQLEndpoint, readOnly: Bool, label: String) async throws -> MySQLConnection {
        try MySQLLibrary.load()
        let connection = MySQLConnection(readOnly: readOnly, label: label)
        do {
            try await connection.open(endpoint)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// `mysql_init` and every option, without connecting (escaping works on such a handle).
    func prepare(_ endpoint: MySQLEndpoint) throws -> UnsafeMutablePointer<MYSQL> {
        if let handle { return handle }
        try MySQLLibrary.load()
        guard let mysql = quorum_mysql_init(nil) else {
            throw MySQLError(.connect, message: "mysql_init failed (out of memory)")
        }
        handle = mysql
        var protocolTCP = UInt32(MYSQL_PROTOCOL_TCP.rawValue)
        var connectTimeout = endpoint.connectTimeout
        var readTimeout = endpoint.readTimeout
        var writeTimeout = endpoint.writeTimeout
        var noReconnect: my_bool = 0
        var noLocalInfile: UInt32 = 0
        var failed = false
        failed = failed || quorum_mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocolTCP) != 0
        failed = failed || quorum_mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout) != 0
        failed = failed || quorum_mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &readTimeout) != 0
        failed = failed || quorum_mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &writeTimeout) != 0
        failed = failed || quorum_mysql_options(mysql, MYSQL_OPT_RECONNECT, &noReconnect) != 0
        failed = failed || quorum_mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &noLocalInfile) != 0
        failed = failed || quorum_mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0
        if failed { throw error(.connect) }
        return mysql
    }

    private func open(_ endpoint: MySQLEndpoint) throws {
        let mysql = try prepare(endpoint)
        let host = endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host
        guard let port = UInt32(exactly: endpoint.port) else {
            throw MySQLError(.invalid, message: "port \(endpoint.port) is out of range")
        }
        let connected = quorum_mysql_real_connect(mysql, host, endpoint.user, endpoint.password, nil, port, nil, 0)
        if connected == nil { throw error(.connect) }
    }

    /// Sends a statement that only reads (`SELECT`, `SHOW`) and returns its rows.
    /// `secret`: the statement carries a secret (e.g. `SELECT PASSWORD('…')`): a server message that could
    /// quote it is withheld.
    public func query(_ sql: String, secret: Bool = false) throws -> MySQLRows {
        guard MySQLStatement.isRead(sql) else {
            throw MySQLError(.invalid, message: "refused to send a statement that is not a SELECT or SHOW through the read door")
        }
        statistics.reads += 1
        return try send(sql, hidesServerText: secret)
    }

    /// Sends a statement that changes state; refused (not sent) on a read-only connection.
    /// `secret`: the statement carries a secret, so a server message that could quote it is withheld.
    /// Returns the affected rows.
    @discardableResult
    public func execute(_ sql: String, secret: Bool = false) throws -> UInt64 {
        if readOnly {
            statistics.refused += 1
            throw MySQLError(.readOnly, message: "check mode: refused to send a statement that changes the database (\(MySQLStatement.verb(sql)))")
        }
        statistics.changes += 1
        _ = try send(sql, hidesServerText: secret)
        guard let mysql = handle else { return 0 }
        return UInt64(quorum_mysql_affected_rows(mysql))
    }

    /// `text` as a quoted SQL string literal, escaped by the client for the connection's charset
    /// (`mysql_real_escape_string`; it doubles quotes instead when the server runs with NO_BACKSLASH_ESCAPES).
    public func literal(_ text: String) throws -> String {
        guard let mysql = handle else { throw MySQLError(.closed, message: "the connection to \(label) is closed") }
        let bytes = Array(text.utf8)
        var out = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        let source = bytes.map { CChar(bitPattern: $0) } + [0]
        let length = quorum_mysql_real_escape_string(mysql, &out, source, UInt(bytes.count))
        guard length != UInt(bitPattern: -1) else { throw MySQLError(.invalid, message: "cannot escape a value for MySQL") }
        let escaped = out[0..<Int(length)].map { UInt8(bitPattern: $0) }
        return "'" + String(decoding: escaped, as: UTF8.self) + "'"
    }

    /// Closes the connection (idempotent) and lets its thread end.
    public func close() {
        if let mysql = handle {
            quorum_mysql_close(mysql)
            handle = nil
        }
        executor.shutdown()
    }

    public var isOpen: Bool { handle != nil }

    // MARK: - C calls

    private func send(_ sql: String, hidesServerText: Bool) throws -> MySQLRows {
        guard let mysql = handle else { throw MySQLError(.closed, message: "the connection to \(label) is closed") }
        let bytes = Array(sql.utf8)
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { quorum_mysql_real_query(mysql, $0.baseAddress, UInt(bytes.count)) }
        }
        if status != 0 { throw error(.statement, hidesServerText: hidesServerText) }
        guard let result = quorum_mysql_store_result(mysql) else {
            if quorum_mysql_field_count(mysql) != 0 { throw error(.statement, hidesServerText: hidesServerText) }
            return []
        }
        defer { quorum_mysql_free_result(result) }
        let columns = Int(quorum_mysql_num_fields(result))
        var rows: MySQLRows = []
        while let row = quorum_mysql_fetch_row(result) {
            guard let lengths = quorum_mysql_fetch_lengths(result) else { break }
            var values: [String?] = []
            values.reserveCapacity(columns)
            for index in 0..<columns {
                if let field = row[index] {
                    let buffer = UnsafeRawBufferPointer(start: field, count: Int(lengths[index]))
                    values.append(String(decoding: buffer, as: UTF8.self))
                } else {
                    values.append(nil)
                }
            }
            rows.append(values)
        }
        if quorum_mysql_errno(mysql) != 0 { throw error(.statement) }
        return rows
    }

    /// The library's error, read right after the failing call.
    private func error(_ kind: MySQLError.Kind, hidesServerText: Bool = false) -> MySQLError {
        guard let mysql = handle else { return MySQLError(kind, message: "the connection to \(label) is closed") }
        let code = quorum_mysql_errno(mysql)
        let state = quorum_mysql_sqlstate(mysql).map { String(cString: $0) } ?? ""
        var message = quorum_mysql_error(mysql).map { String(cString: $0) } ?? "unknown error"
        // A parse error quotes the statement ("near '…'"): never for one that carries a secret.
        if hidesServerText && code == 1064 { message = "the server could not parse a statement (its text is withheld: it holds a secret)" }
        if code == 2006 || code == 2013 { message += " (the connection to \(label) was lost)" }
        return MySQLError(kind, code: code, sqlState: state, message: message)
    }
}

/// What a statement does, judged by its first keyword.
public enum MySQLStatement {
    /// The first keyword, upper-cased.
    public static func verb(_ sql: String) -> String {
        let trimmed = sql.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "(" }
        return String(trimmed.prefix { $0.isLetter }).uppercased()
    }

    /// True for statements that only read: SELECT (without INTO or a locking clause) and SHOW.
    public static func isRead(_ sql: String) -> Bool {
        switch verb(sql) {
        case "SHOW": return true
        case "SELECT":
            let upper = sql.uppercased()
            return !upper.contains(" INTO ") && !upper.contains(" FOR UPDATE") && !upper.contains(" LOCK IN ")
        default: return false
        }
    }
}
