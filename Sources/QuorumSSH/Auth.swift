import CLibSSH2
import Foundation

extension SessionCore {
    /// At most this many agent identities are offered, so sshd's MaxAuthTries (default 6) is not exceeded.
    static let maxAgentIdentities = 4

    /// Tries the methods in order, each only if the server offers it. Messages never include secrets.
    func authenticate(_ methods: [SSHAuthMethod], deadline: Deadline) throws {
        guard let session else { return }
        let user = endpoint.user
        let userLength = UInt32(user.utf8.count)
        let op = newOp()
        defer { endOp(op) }

        let offeredList: String? = try drive(deadline) { () -> Step<String?> in
            if let list = libssh2_userauth_list(session, user, userLength) { return .done(String(cString: list)) }
            if libssh2_userauth_authenticated(session) != 0 { return .done(nil) }
            let rc = libssh2_session_last_errno(session)
            if rc == LIBSSH2_ERROR_EAGAIN { return .blocked }
            throw error(Int(rc), .authenticationFailed, "Cannot list authentication methods for \(endpoint)")
        }
        guard let offeredList else { return }  // the server accepted "none"
        let offered = Set(offeredList.split(separator: ",").map(String.init))

        var tried: [String] = []
        for method in methods {
            switch method {
            case .keyFile(let givenPath, let passphrase):
                let path = expandTilde(givenPath)
                guard offered.contains("publickey") else {
                    tried.append("key \(path): server does not offer publickey")
                    continue
                }
                let publicPath = FileManager.default.fileExists(atPath: path + ".pub") ? path + ".pub" : nil
                let rc: Int32 = try drive(deadline) { () -> Step<Int32> in
                    let rc = libssh2_userauth_publickey_fromfile_ex(session, user, userLength, publicPath, path, passphrase)
                    return rc == LIBSSH2_ERROR_EAGAIN ? .blocked : .done(rc)
                }
                if rc == 0 { return }
                if isFatal(Int(rc)) { throw error(Int(rc), .authenticationFailed, "Authentication of \(endpoint)") }
                tried.append("key \(path): \(lastErrorMessage)")

            case .agent:
                guard offered.contains("publickey") else {
                    tried.append("ssh-agent: server does not offer publickey")
                    continue
                }
                if try agentAuth(user: user, deadline: deadline, tried: &tried) { return }

            case .password(let password):
                if offered.contains("password") {
                    let length = UInt32(password.utf8.count)
                    let rc: Int32 = try drive(deadline) { () -> Step<Int32> in
                        let rc = libssh2_userauth_password_ex(session, user, userLength, password, length, nil)
                        return rc == LIBSSH2_ERROR_EAGAIN ? .blocked : .done(rc)
                    }
                    if rc == 0 { return }
                    if isFatal(Int(rc)) { throw error(Int(rc), .authenticationFailed, "Authentication of \(endpoint)") }
                    tried.append("password: \(lastErrorMessage)")
                } else if offered.contains("keyboard-interactive") {
                    guard let secret = strdup(password) else { continue }
                    ctx.pointee.kbd_password = UnsafePointer(secret)
                    ctx.pointee.kbd_password_len = UInt32(password.utf8.count)
                    defer {
                        memset(secret, 0, password.utf8.count)
                        Foundation.free(secret)
                        ctx.pointee.kbd_password = nil
                        ctx.pointee.kbd_password_len = 0
                    }
                    let rc: Int32 = try drive(deadline) { () -> Step<Int32> in
                        let rc = quorum_userauth_kbdint(session, user, userLength)
                        return rc == LIBSSH2_ERROR_EAGAIN ? .blocked : .done(rc)
                    }
                    if rc == 0 { return }
                    if isFatal(Int(rc)) { throw error(Int(rc), .authenticationFailed, "Authentication of \(endpoint)") }
                    tried.append("keyboard-interactive: \(lastErrorMessage)")
                } else {
                    tried.append("password: server does not offer password or keyboard-interactive")
                }
            }
        }
        let summary = tried.isEmpty ? "no authentication method was given" : tried.joined(separator: "; ")
        throw SSHError(
            .authenticationFailed,
            "Authentication failed for \(endpoint) (server offers \(offeredList)); tried: \(summary)")
    }

    /// Offers the agent's identities one by one (at most `maxAgentIdentities`). Returns true when one was accepted.
    private func agentAuth(user: String, deadline: Deadline, tried: inout [String]) throws -> Bool {
        guard let session else { return false }
        guard let socketPath = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"], !socketPath.isEmpty else {
            tried.append("ssh-agent: SSH_AUTH_SOCK is not set")
            return false
        }
        guard let agent = libssh2_agent_init(session) else {
            tried.append("ssh-agent: \(lastErrorMessage)")
            return false
        }
        defer {
            _ = libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            tried.append("ssh-agent at \(socketPath): cannot connect: \(lastErrorMessage)")
            return false
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            tried.append("ssh-agent: cannot list identities: \(lastErrorMessage)")
            return false
        }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var offeredCount = 0
        while offeredCount < Self.maxAgentIdentities {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            let rc = libssh2_agent_get_identity(agent, &identity, previous)
            guard rc == 0, let identity else { break }
            previous = identity
            offeredCount += 1
            let comment = identity.pointee.comment.map { String(cString: $0) } ?? "?"
            let result: Int32 = try drive(deadline) { () -> Step<Int32> in
                let rc = libssh2_agent_userauth(agent, user, identity)
                return rc == LIBSSH2_ERROR_EAGAIN ? .blocked : .done(rc)
            }
            if result == 0 { return true }
            if isFatal(Int(result)) { throw error(Int(result), .authenticationFailed, "Authentication of \(endpoint)") }
            tried.append("ssh-agent key \(comment): \(lastErrorMessage)")
        }
        if offeredCount == 0 { tried.append("ssh-agent: no identities") }
        return false
    }
}
