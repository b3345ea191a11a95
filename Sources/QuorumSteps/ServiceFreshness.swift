import Foundation
import QuorumCore

/// `service: {state: started, restart_if_older_than: [FILES]}`: a running service must run what its files say
/// now. When its main process started before one of the files was last modified, the step restarts it (with
/// `drain`, as `restarted` does). The evidence is on the host — the process's start time and the files'
/// modification times — so no bookkeeping is needed: a run interrupted between a configuration change and the
/// restart leaves a stale process that the next run restarts and an audit reports as drift.
///
/// Read in the service step's one probe: the process's age from `/proc/PID/stat` (field 22, clock ticks since
/// boot) against `/proc/uptime`, each file's age from `stat -c %.9Y` against `date +%s.%N`.
struct ServiceFreshness: Sendable, Equatable {
    /// The files, absolute paths; one missing on the host is ignored.
    var files: [String]
    /// SysV: the pid files tried in order, the first existing one names the main process.
    var pidfiles: [String]

    /// A file counts as newer than the process only by more than this (seconds): one written just before a
    /// restart must not look newer because of the clocks' granularity (10 ms ticks, /proc/uptime's 10 ms).
    static let tolerance = 0.05

    static let fields: [ArgField] = [
        ArgField(
            "restart_if_older_than", .list(.absolutePath),
            "with `state: started`: restart the running service (honouring `drain`) when its main process started "
                + "before one of these files last changed; a missing file is ignored; check mode and audits report it "
                + "(ignored with `state: restarted`)"),
        ArgField(
            "pidfile", .absolutePath,
            "SysV, with `restart_if_older_than`: the main process's pid file (default: the first existing of "
                + "/run/NAME.pid, /run/NAME/NAME.pid, /var/run/NAME/NAME.pid); systemd's MainPID is used under systemd")
    ]

    /// From the step's arguments; nil without `restart_if_older_than` or with `state: restarted` (which restarts anyway).
    init?(arguments: Arguments, service: String, state: ServiceStep.State?) throws {
        let files = try arguments.stringList("restart_if_older_than") ?? []
        let pidfile = try arguments.string("pidfile")
        if pidfile != nil, files.isEmpty {
            throw StepFailure("service \(service): `pidfile` is only read with `restart_if_older_than`")
        }
        if !files.isEmpty, state != .started, state != .restarted {
            throw StepFailure("service \(service): `restart_if_older_than` needs `state: started`")
        }
        guard !files.isEmpty, state == .started else { return nil }
        self.files = files
        pidfiles = pidfile.map { [$0] } ?? ["/run/\(service).pid", "/run/\(service)/\(service).pid", "/var/run/\(service)/\(service).pid"]
    }

    /// Probe lines for the manager's branch: `pid=`, `pidfile=N` (SysV: which candidate), and when the process
    /// exists `stat=` (newlines flattened), `ticks=`, `uptime=`, `now=`; `mtimeN=` for each existing file N.
    /// The uptime is read (a builtin) just before `date` runs: the fork between them can only make the process
    /// look younger, never a file written before it look newer.
    func probe(_ manager: ServiceStep.Manager, service: String) -> String {
        var lines: [String]
        switch manager {
        case .systemd:
            lines = ["pid=$(systemctl show -p MainPID \(Shell.quote(service)) 2>/dev/null | sed -n 's/^MainPID=//p')"]
        case .sysv:
            lines = [
                "pid=; i=0; for f in \(pidfiles.map(Shell.quote).joined(separator: " ")); do i=$((i + 1));"
                    + " if [ -e \"$f\" ]; then echo \"pidfile=$i\"; read -r pid _ < \"$f\"; break; fi; done"
            ]
        }
        lines += [
            "case \"$pid\" in ''|0|*[!0-9]*) pid= ;; esac",
            "echo \"pid=$pid\"",
            "if [ -n \"$pid\" ] && [ -r \"/proc/$pid/stat\" ]; then",
            "  printf 'stat=%s\\n' \"$(tr '\\n' ' ' < \"/proc/$pid/stat\")\"",
            "  echo \"ticks=$(getconf CLK_TCK)\"",
            "  read -r up _ < /proc/uptime; echo \"uptime=$up\"; echo \"now=$(date +%s.%N)\"",
            "fi"
        ]
        for (index, file) in files.enumerated() {
            let q = Shell.quote(file)
            lines.append("if [ -e \(q) ]; then printf 'mtime\(index + 1)=%s\\n' \"$(stat -L -c %.9Y -- \(q) 2>&1)\"; fi")
        }
        return lines.joined(separator: "\n")
    }

    /// What the probe found of a running service.
    struct Reading: Sendable, Equatable {
        /// When the main process started, seconds since the epoch.
        var started: Double
        /// The most recently changed file that changed after the process started; nil when it is newer than every file.
        var changedFile: String?
        /// When that file changed; nil when it has not yet and an earlier step of this check run would change it.
        var changed: Double?

        var isStale: Bool { changedFile != nil }

        /// `magnum-api started 2026-12-02T15:00:01Z, before /etc/magnum/magnum.conf changed (2026-12-02T15:03:12Z)`.
        func reason(_ service: String) -> String {
            guard let changedFile else { return "\(service) started \(Self.iso(started))" }
            guard let changed else { return "\(service) started \(Self.iso(started)), and an earlier step would change \(changedFile)" }
            return "\(service) started \(Self.iso(started)), before \(changedFile) changed (\(Self.iso(changed)))"
        }

        /// `service magnum-api: running since 2026-12-02T15:00:01Z → restarted: /etc/magnum/magnum.conf changed 2026-12-02T15:03:12Z`.
        func diff(_ service: String) -> Diff {
            let what = changedFile.map { file in changed.map { "\(file) changed \(Self.iso($0))" } ?? "\(file) would change" }
            return Diff(
                subject: "service \(service)", before: "running since \(Self.iso(started))",
                after: "restarted" + (what.map { ": " + $0 } ?? ""))
        }

        static func iso(_ seconds: Double) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds.rounded(.down)))
        }
    }

    /// Reads the probe's fields of a service the manager says is running; throws when its main process cannot
    /// be found or its times cannot be read.
    func reading(_ fields: [String: String], service: String, manager: ServiceStep.Manager) throws -> Reading {
        guard let pid = fields["pid"], !pid.isEmpty else {
            switch manager {
            case .systemd:
                throw StepFailure(
                    "service \(service) runs but systemd names no main process (MainPID=0): "
                        + "cannot tell when it started, for `restart_if_older_than`")
            case .sysv:
                let tried = fields["pidfile"].flatMap(Int.init).flatMap { pidfiles.indices.contains($0 - 1) ? pidfiles[$0 - 1] : nil }
                throw StepFailure(
                    "service \(service) runs but "
                        + (tried.map { "its pid file \($0) holds no pid" }
                            ?? (pidfiles.count == 1
                                ? "its pid file \(pidfiles[0]) does not exist"
                                : "none of its pid files exists (tried \(pidfiles.joined(separator: ", ")))"))
                        + ": cannot tell when it started, for `restart_if_older_than` (give `pidfile`)")
            }
        }
        guard let stat = fields["stat"], let ticks = Self.startTicks(stat) else {
            throw StepFailure("service \(service) runs but its main process \(pid) does not (no /proc/\(pid)/stat)")
        }
        guard let hz = fields["ticks"].flatMap(Double.init), hz > 0, let uptime = fields["uptime"].flatMap(Double.init),
            let now = fields["now"].flatMap(Double.init)
        else {
            throw StepFailure(
                "service \(service): cannot read the host's clocks (CLK_TCK `\(fields["ticks"] ?? "")`, "
                    + "uptime `\(fields["uptime"] ?? "")`, date `\(fields["now"] ?? "")`)")
        }
        var reading = Reading(started: now - (uptime - ticks / hz))
        for (index, file) in files.enumerated() {
            guard let text = fields["mtime\(index + 1)"] else { continue }  // missing: ignored
            guard let modified = Double(text) else {
                throw StepFailure("service \(service): cannot read when \(file) changed", detail: text)
            }
            if modified > reading.started + Self.tolerance, modified > reading.changed ?? -.infinity {
                reading.changedFile = file
                reading.changed = modified
            }
        }
        return reading
    }

    /// Field 22 of `/proc/PID/stat` (starttime, clock ticks since boot), counted after the last `)`: field 2,
    /// the command name in parentheses, may itself hold spaces and parentheses.
    static func startTicks(_ stat: String) -> Double? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let after = stat[stat.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        // after[0] is field 3 (state): field 22 is after[19].
        guard after.count > 19 else { return nil }
        return Double(after[19])
    }

    /// Check mode: a fresh process is stale all the same when an earlier step of this run would rewrite one of
    /// the files (apply writes it first, then this step finds the process older).
    func predicting(_ reading: Reading, _ context: StepContext) -> Reading {
        guard context.check, !reading.isStale, let file = files.first(where: { PlannedFiles.wouldChange($0, context) }) else {
            return reading
        }
        return Reading(started: reading.started, changedFile: file, changed: nil)
    }
}
