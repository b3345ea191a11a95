import Foundation
import OrderedCollections
import QuorumCore
import QuorumSSH

/// How fast a dead peer (a cut link, a frozen host) is noticed: SSH keepalives every `interval` seconds, the
/// connection declared lost after `interval * countMax` (+2) silent seconds. sshd answers keepalives itself, so a
/// live host running a command that prints nothing for minutes is never cut. From the inventory:
/// `quorum_ssh_keepalive_interval` / `quorum_ssh_keepalive_count`, else OpenSSH's `ServerAliveInterval` /
/// `ServerAliveCountMax` in `ansible_ssh_common_args` or `ansible_ssh_extra_args`, else SSHOptions' defaults (3 s × 3).
struct KeepaliveSettings: Equatable {
    var interval: Int
    var countMax: Int

    init(interval: Int, countMax: Int) {
        self.interval = interval
        self.countMax = countMax
    }

    /// Throws `RemoteError(.unreachable)` naming the host and the variable when a value is not a number in range.
    init(host: String, variables: Variables, defaults: SSHOptions = SSHOptions()) throws {
        let openSSH = Self.openSSHOptions(variables)
        interval =
            try Self.number("quorum_ssh_keepalive_interval", of: host, variables, range: 0...3600)
            ?? openSSH["serveraliveinterval"] ?? defaults.keepaliveInterval
        countMax =
            try Self.number("quorum_ssh_keepalive_count", of: host, variables, range: 1...100)
            ?? openSSH["serveralivecountmax"] ?? defaults.keepaliveCountMax
    }

    func apply(to options: inout SSHOptions) {
        options.keepaliveInterval = interval
        options.keepaliveCountMax = countMax
    }

    static func number(_ name: String, of host: String, _ variables: Variables, range: ClosedRange<Int>) throws -> Int? {
        guard let value = variables[name], !value.isNull else { return nil }
        guard let text = value.scalarText, let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw RemoteError(.unreachable, "\(host): \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got `\(value)`")
        }
        return number
    }

    /// `-o ServerAliveInterval=5`, `-oServerAliveCountMax=2`, `-o "ServerAliveInterval 5"` from Ansible's SSH arguments
    /// (names lowercased; values that are not numbers are ignored, as the rest of those arguments is).
    static func openSSHOptions(_ variables: Variables) -> [String: Int] {
        var result: [String: Int] = [:]
        for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            guard let text = variables[name]?.scalarText else { continue }
            let words = text.replacingOccurrences(of: "\"", with: " ").replacingOccurrences(of: "'", with: " ")
                .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var index = 0
            while index < words.count {
                var option = words[index]
                if option.hasPrefix("-o") { option.removeFirst(2) }
                if option.isEmpty, index + 1 < words.count {
                    index += 1
                    option = words[index]
                }
                var key = option
                var value = ""
                if let equals = option.firstIndex(of: "=") {
                    key = String(option[..<equals])
                    value = String(option[option.index(after: equals)...])
                } else if index + 1 < words.count {
                    value = words[index + 1]
                }
                let lowered = key.lowercased()
                if ["serveraliveinterval", "serveralivecountmax"].contains(lowered), let number = Int(value) {
                    result[lowered] = number
                }
                index += 1
            }
        }
        return result
    }
}
