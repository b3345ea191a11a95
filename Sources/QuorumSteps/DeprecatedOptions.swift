import QuorumCore

/// Options of OpenStack configuration files (oslo.config INI) that current releases removed or deprecated,
/// with what replaces them. The `ini` step checks every file it reads against this catalog; `quorum audit`
/// reports the results as findings. Sources: oslo.messaging 9.0.0 (Stein) removed the `rabbit_*` connection
/// options and `rpc_backend`; its 2024-12 cleanup removed the `rabbit_use_ssl` / `kombu_ssl_*` aliases;
/// keystonemiddleware deprecated `auth_uri` (Queens) and removed it, with the rest of AuthTokenPlugin's
/// options, in 13.0.0; Keystone's admin port 35357 is gone since Queens; Magnum's `[trustee]` section was
/// replaced by `[trust]`. Messages never include an option's value.
public enum DeprecatedOptions {
    public struct Rule: Sendable {
        /// Sections where the option is looked for.
        public var sections: [String]
        /// The option's name; nil matches every option of the sections.
        public var key: String?
        public var replacement: String?
        /// Why, e.g. "removed in oslo.messaging 9.0.0 (Stein)".
        public var reason: String
    }

    static let messaging = ["DEFAULT", "oslo_messaging_rabbit"]
    static let transportURL = "[DEFAULT] transport_url"
    static let stein = "removed in oslo.messaging 9.0.0 (Stein)"
    static let sslCleanup = "removed from oslo.messaging in 2024 (deprecated alias)"
    static let authToken = ["keystone_authtoken"]
    static let authTokenPlugin = "removed in keystonemiddleware 13.0.0 (with AuthTokenPlugin)"

    public static let rules: [Rule] = [
        Rule(sections: messaging, key: "rpc_backend", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_hosts", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_host", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_port", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_userid", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_password", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_virtual_host", replacement: transportURL, reason: stein),
        Rule(sections: messaging, key: "rabbit_max_retries", replacement: nil, reason: stein),
        Rule(sections: messaging, key: "rabbit_durable_queues", replacement: nil, reason: stein),
        Rule(sections: messaging, key: "rabbit_use_ssl", replacement: "[oslo_messaging_rabbit] ssl", reason: sslCleanup),
        Rule(sections: messaging, key: "kombu_ssl_ca_certs", replacement: "[oslo_messaging_rabbit] ssl_ca_file", reason: sslCleanup),
        Rule(sections: messaging, key: "kombu_ssl_certfile", replacement: "[oslo_messaging_rabbit] ssl_cert_file", reason: sslCleanup),
        Rule(sections: messaging, key: "kombu_ssl_keyfile", replacement: "[oslo_messaging_rabbit] ssl_key_file", reason: sslCleanup),
        Rule(sections: messaging, key: "kombu_ssl_version", replacement: "[oslo_messaging_rabbit] ssl_version", reason: sslCleanup),
        Rule(
            sections: authToken, key: "auth_uri", replacement: "[keystone_authtoken] www_authenticate_uri",
            reason: "deprecated in keystonemiddleware 4.18.0 (Queens), removed in 13.0.0"),
        Rule(sections: authToken, key: "admin_user", replacement: "[keystone_authtoken] username", reason: authTokenPlugin),
        Rule(sections: authToken, key: "admin_password", replacement: "[keystone_authtoken] password", reason: authTokenPlugin),
        Rule(sections: authToken, key: "admin_tenant_name", replacement: "[keystone_authtoken] project_name", reason: authTokenPlugin),
        Rule(sections: authToken, key: "identity_uri", replacement: "[keystone_authtoken] auth_url", reason: authTokenPlugin),
        Rule(
            sections: authToken, key: "admin_token", replacement: "[keystone_authtoken] auth_type = password with a service user",
            reason: authTokenPlugin),
        Rule(sections: authToken, key: "auth_host", replacement: "[keystone_authtoken] auth_url", reason: authTokenPlugin),
        Rule(sections: authToken, key: "auth_port", replacement: "[keystone_authtoken] auth_url", reason: authTokenPlugin),
        Rule(sections: authToken, key: "auth_protocol", replacement: "[keystone_authtoken] auth_url", reason: authTokenPlugin),
        Rule(
            sections: ["trustee"], key: nil, replacement: "[trust] trustee_domain_* options",
            reason: "Magnum replaced the [trustee] section with [trust]")
    ]

    /// Options whose value is a Keystone URL: on port 35357 they point at the admin API current releases dropped.
    static let keystoneURLOptions: Set<String> = ["auth_url", "identity_uri", "auth_uri", "www_authenticate_uri"]
    static let adminPortNote = "uses Keystone's admin port 35357, which current releases no longer serve"
    static let publicKeystone = "the public Keystone URL on port 5000"

    /// Findings for `file`'s content: at most one per (section, option), in file order.
    public static func findings(in document: IniDocument, file: String) -> [Finding] {
        var findings: [Finding] = []
        var seen = Set<String>()
        for option in document.options {
            guard let section = option.section else { continue }
            let subject = "[\(section)] \(option.key)"
            guard !seen.contains(subject) else { continue }
            let rule = rules.first { $0.sections.contains(section) && ($0.key == nil || $0.key == option.key) }
            let adminPort = keystoneURLOptions.contains(option.key) && usesAdminPort(option.value)
            let message: String
            let replacement: String?
            if let rule {
                message =
                    "\(subject): \(rule.reason)" + (rule.replacement.map { "; use \($0)" } ?? "; remove it")
                    + (adminPort ? "; its URL also \(adminPortNote)" : "")
                replacement = rule.replacement
            } else if adminPort {
                message = "\(subject) \(adminPortNote); use \(publicKeystone)"
                replacement = publicKeystone
            } else {
                continue
            }
            seen.insert(subject)
            findings.append(Finding(file: file, subject: subject, message: message, replacement: replacement))
        }
        return findings
    }

    /// True when `value` is a URL whose port is 35357 (`http://host:35357/…`, credentials and IPv6 included).
    public static func usesAdminPort(_ value: String) -> Bool {
        // Most values are not on 35357: the regex literal, parsed again at each call, only for those that may be.
        value.contains("35357") && value.contains(/^[A-Za-z][A-Za-z0-9+.\-]*:\/\/([^\/@\s]*@)?(\[[^\]]*\]|[^\/:@\s]*):35357(?![0-9])/)
    }
}
