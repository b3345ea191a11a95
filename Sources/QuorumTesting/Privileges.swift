import Glibc

/// Who the tests run as: a few need root (they create users for their own sshd); they are skipped otherwise,
/// so that `scripts/unit.sh` runs as any developer.
public enum Privileges {
    public static var isRoot: Bool { geteuid() == 0 }

    /// The name of the user the tests run as, for files they create and own.
    public static var userName: String {
        guard let entry = getpwuid(geteuid()) else { return "root" }
        return String(cString: entry.pointee.pw_name)
    }

    /// The name of the tests' primary group.
    public static var groupName: String {
        guard let entry = getgrgid(getegid()) else { return "root" }
        return String(cString: entry.pointee.gr_name)
    }
}
