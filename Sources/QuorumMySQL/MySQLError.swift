/// An error of MariaDB Connector/C or of the server, captured right after the failing call on the
/// connection's own thread. It never holds the statement that failed (statements may carry secrets).
public struct MySQLError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Could not connect or log in (wrong password, server down, nothing listening).
        case connect
        /// The server refused or failed a statement.
        case statement
        /// A statement that changes state was refused because the connection is read-only (check mode).
        case readOnly
        /// The connection was closed or lost.
        case closed
        /// An identifier or argument that cannot be sent safely.
        case invalid
    }

    public var kind: Kind
    /// The client's or server's error number (`mysql_errno`), 0 when Quorum raised it itself.
    public var code: UInt32
    public var sqlState: String
    /// The library's own message (`mysql_error`).
    public var message: String

    public init(_ kind: Kind, code: UInt32 = 0, sqlState: String = "", message: String) {
        self.kind = kind
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        guard code != 0 else { return message }
        return "\(message) (MySQL error \(code)\(sqlState.isEmpty || sqlState == "00000" ? "" : ", SQLSTATE \(sqlState)"))"
    }

    /// Client-side "cannot connect" errors (CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR,
    /// CR_SERVER_LOST, CR_SERVER_LOST_EXTENDED): the server or the path to it is not there.
    public var isUnreachable: Bool { [2002, 2003, 2006, 2013, 2055].contains(code) }
}
