import OrderedCollections
import QuorumCore
import QuorumSSH
import Testing

@testable import QuorumEngine

@Suite struct KeepaliveSettingsTests {
    func settings(_ variables: Variables) throws -> KeepaliveSettings { try KeepaliveSettings(host: "ctl1", variables: variables) }

    @Test("by default a dead peer is named within 15 s: keepalives every 3 s, 3 unanswered")
    func defaults() throws {
        let s = try settings([:])
        #expect(s == KeepaliveSettings(interval: 3, countMax: 3))
        #expect(s.interval * s.countMax + 2 <= 15)
    }

    @Test("the inventory's quorum_ssh_keepalive_* variables win over Ansible's ServerAlive options")
    func inventoryVariables() throws {
        #expect(
            try settings(["quorum_ssh_keepalive_interval": .int(5), "quorum_ssh_keepalive_count": .string("2")])
                == KeepaliveSettings(interval: 5, countMax: 2))
        #expect(
            try settings(["ansible_ssh_common_args": .string("-o ServerAliveInterval=4 -oServerAliveCountMax=2 -o StrictHostKeyChecking=no")])
                == KeepaliveSettings(interval: 4, countMax: 2))
        #expect(try settings(["ansible_ssh_extra_args": .string("-o 'ServerAliveInterval 7'")]) == KeepaliveSettings(interval: 7, countMax: 3))
        #expect(try settings(["ansible_ssh_common_args": .string("-o ServerAliveInterval=4"), "quorum_ssh_keepalive_interval": .int(2)]).interval == 2)
    }

    @Test("a value that is not a whole number in range names the host and the variable")
    func badValues() {
        for bad: Value in [.string("fast"), .int(-1), .int(5000)] {
            #expect(throws: RemoteError.self) { try settings(["quorum_ssh_keepalive_interval": bad]) }
        }
        do {
            _ = try settings(["quorum_ssh_keepalive_count": .int(0)])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "ctl1: quorum_ssh_keepalive_count must be a whole number from 1 to 100, got `0`")
        }
    }

    @Test func appliesToTheSSHOptions() {
        var options = SSHOptions()
        KeepaliveSettings(interval: 9, countMax: 1).apply(to: &options)
        #expect(options.keepaliveInterval == 9 && options.keepaliveCountMax == 1)
    }
}
