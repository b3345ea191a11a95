import Foundation
import QuorumTesting
import Testing

/// Magnum as it runs in the lab: `magnum service-list` asked of its API the way the book does (a Keystone token,
/// through a controller's HAProxy on the VIP), and RabbitMQ's view of Magnum's user.
enum LabMagnum {
    /// The conductors `GET /v1/mservices` lists, by host: their `state` (`up`, `down`), asked from `host`
    /// (through its own HAProxy on VIP:9511).
    static func conductors(from host: String = "ctl1") throws -> [String: String] {
        let token = try LabKeystone.call(["token"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let body = try Lab.output(
            host,
            """
            curl -fsS --max-time 20 -H 'X-Auth-Token: \(token)' -H 'OpenStack-API-Version: container-infra latest' \
              http://10.21.22.2:9511/v1/mservices
            """)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let services = try #require(object["mservices"] as? [[String: Any]], "\(body)")
        var states: [String: String] = [:]
        for service in services where service["binary"] as? String == "magnum-conductor" {
            if let name = service["host"] as? String { states[name] = service["state"] as? String ?? "?" }
        }
        return states
    }

    /// Seconds by which `service` (its pidfile's process) on `host` started after `file` was last written: negative
    /// when it runs a configuration older than the file. Read inside the controller in one script (the process's
    /// start from /proc against the boot clock, the file's time against the wall clock).
    static func startedAfterWrite(_ host: String, _ service: String, _ file: String = "/etc/magnum/magnum.conf") throws -> Double {
        let out = try Lab.output(
            host,
            """
            pid=$(cat /run/magnum/\(service).pid); st=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f20)
            echo "$(date +%s.%N) $(cut -d' ' -f1 /proc/uptime) $st $(getconf CLK_TCK) $(stat -c %.9Y \(file))"
            """)
        let f = out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(f.count == 5, "\(host) \(service): \(out)")
        let started = f[0] - (f[1] - f[2] / f[3])
        return started - f[4]
    }

    /// Waits (bounded) until `condition` holds for the conductors' states.
    static func waitForConductors(_ what: String, seconds: Int = 120, _ condition: ([String: String]) -> Bool) throws {
        var last: [String: String] = [:]
        for _ in 0..<(seconds / 2) {
            last = (try? conductors()) ?? [:]
            if condition(last) { return }
            Thread.sleep(forTimeInterval: 2)
        }
        throw TestError("\(what): not within \(seconds) s (conductors: \(last))")
    }

    /// `rabbitmqctl` against the lab's broker (netns lab), through lab/lab.sh's environment for it.
    /// Magnum's processes and pid files on every controller, for a failure's message: what ran when an apply
    /// found a service in a state it could not handle (e.g. a daemon without its pid file).
    static func processes() -> String {
        Lab.controllers.map { host in
            let seen =
                (try? Lab.exec(
                    host,
                    "ps -eo pid,ppid,stat,lstart,args | grep -E '[m]agnum|[u]wsgi|[s]tart-stop'; "
                        + "ls -l --time-style=+%T.%N /run/magnum; head /run/magnum/*.pid; ls -l /run/lock"))
            return "\(host):\n" + ((seen?.stdout ?? "") + (seen?.stderr ?? ""))
        }.joined(separator: "\n")
    }

    static func rabbitmqctl(_ arguments: [String]) throws -> String {
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = "set -e; cd \(PackageRoot.path)/lab; LAB_NS=lab; STATE=\(Lab.stateDirectory); source services/35-rabbitmq.sh; rabbitmqctl_lab \(quoted)"
        let result = try Command.run(["bash", "-c", script])
        guard result.status == 0 else { throw TestError("rabbitmqctl \(arguments): \(result.stderr)\(result.stdout)") }
        return result.stdout
    }

    /// True when RabbitMQ accepts `user`'s `password` (its own check: `rabbitmqctl authenticate_user`).
    static func rabbitAccepts(_ user: String, _ password: String) throws -> Bool {
        (try? rabbitmqctl(["authenticate_user", user, password])) != nil
    }
}
