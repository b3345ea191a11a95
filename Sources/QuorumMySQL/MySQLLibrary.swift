import CMariaDB

/// MariaDB Connector/C, opened (dlopen) and initialised once, before the first connection
/// (Sources/CMariaDB/include/CMariaDB.h): its initialisation is not thread-safe.
public enum MySQLLibrary {
    /// Call from any thread; the first call opens the library, later calls give the same answer.
    /// Throws `MySQLError` (kind `.connect`) when the library cannot be opened or initialised.
    public static func load() throws {
        if let problem { throw MySQLError(.connect, message: problem) }
    }

    private static let problem: String? = quorum_mysql_load().map { String(cString: $0) }
}
