import CMariaDB

/// MariaDB Connector/C's global initialisation, done once before any connection (it is not thread-safe).
public enum MySQLLibrary {
    /// Call from any thread; the first call initialises the library, later calls do nothing.
    public static func initialise() { _ = once }

    private static let once: Bool = {
        mysql_server_init(0, nil, nil) == 0
    }()
}
