import QuorumCore

/// Wraps scripts in `/bin/sh -c` and, for `become`, sudo. With a password, the password is the first line
/// of stdin, read by the shell's builtin `read`: it never appears in a command line (`ps`). If sudo needs no
/// password the command runs with `sudo -n`; otherwise the password is checked once (`sudo -S … true`) and
/// then given again, ahead of the real stdin, to the sudo that runs the command. (sudo's credential cache
/// cannot be relied on between two invocations without a terminal.)
enum Become {
    static let refusedStatus: Int32 = 97

    static func wrap(_ script: String, stdin: [UInt8], become: BecomeSettings?) -> (String, [UInt8]) {
        guard let become else { return ("/bin/sh -c " + Shell.quote(script), stdin) }
        let user = Shell.quote(become.user)
        let command = "/bin/sh -c \(Shell.quote(script))"
        guard let password = become.password else { return ("sudo -n -H -u \(user) -- \(command)", stdin) }
        let outer = """
            IFS= read -r quorum_become || exit \(refusedStatus)
            if sudo -n -u \(user) true 2>/dev/null; then unset quorum_become; exec sudo -n -H -u \(user) -- \(command); fi
            printf '%s\\n' "$quorum_become" | sudo -S -p '' -u \(user) true 2>/dev/null || exit \(refusedStatus)
            { printf '%s\\n' "$quorum_become"; unset quorum_become; exec cat; } | sudo -S -p '' -H -u \(user) -- \(command)
            """
        return ("/bin/sh -c " + Shell.quote(outer), Array((password + "\n").utf8) + stdin)
    }
}
