import Foundation
import QuorumCore

/// The audit's report for people (`--format table`): drift per host and step with what differs, then
/// failed health checks, findings, steps not audited, failures, unreachable hosts, and one summary line.
public struct AuditTable: Sendable {
    public let report: AuditReport
    public let color: Bool

    public init(_ report: AuditReport, color: Bool = false) {
        self.report = report
        self.color = color
    }

    public func render() -> String {
        var out: [String] = []
        let drifted = report.hosts.filter { !$0.drift.isEmpty }
        out.append(paint("DRIFT", .bold) + (drifted.isEmpty ? "  none" : ""))
        for host in drifted {
            out.append("  " + paint(host.host, .bold))
            for drift in host.drift {
                var line = "    " + paint("~ ", .yellow) + (drift.handler ? "handler: " : "") + drift.step
                line += "  (\(drift.kind), \(drift.location))"
                if let message = drift.message { line += "  " + message }
                out.append(line)
                for difference in drift.differences {
                    for part in DiffText.lines(difference.diff) {
                        let text = "        " + part.text
                        switch part.kind {
                        case .added: out.append(paint(text, .green))
                        case .removed: out.append(paint(text, .red))
                        case .plain: out.append(text)
                        }
                    }
                }
            }
        }
        section("HEALTH", \.health, into: &out) { "step \"\($0.step)\" (\($0.location)): \($0.problem)" }
        section("FINDINGS", \.findings, into: &out) { finding in
            "\(finding.severity.rawValue): \(finding.file): \(finding.message)"
        }
        section("NOT AUDITED", \.notAudited, into: &out) { "\($0.step): \($0.reason)" }
        section("FAILED", \.failures, into: &out) { "step \"\($0.step)\" (\($0.location)): \($0.error)" }
        let unreachable = report.hosts.filter { $0.status == .unreachable }
        if !unreachable.isEmpty {
            out.append("")
            out.append(paint("UNREACHABLE", .bold))
            for host in unreachable { out.append("  " + paint(host.host, .red) + "  " + (host.error ?? "unreachable")) }
        }
        out.append("")
        out.append(summaryLine)
        return out.joined(separator: "\n") + "\n"
    }

    /// `audit: 3 hosts, 57 probes, drift in 2 steps on 2 hosts, 1 warning, 0 failed, 0 unreachable, 1 unhealthy, …`
    public var summaryLine: String {
        let s = report.summary
        var parts = ["\(s.hosts) host\(s.hosts == 1 ? "" : "s")", "\(s.probes) probe\(s.probes == 1 ? "" : "s")"]
        parts.append(
            s.driftedSteps == 0
                ? "no drift"
                : "drift in \(s.driftedSteps) step\(s.driftedSteps == 1 ? "" : "s") on \(s.driftedHosts) host\(s.driftedHosts == 1 ? "" : "s")")
        parts.append("\(s.findings) warning\(s.findings == 1 ? "" : "s")" + (report.strict && s.findings > 0 ? " (strict)" : ""))
        parts += ["\(s.failed) failed", "\(s.unreachable) unreachable", "\(s.unhealthy) unhealthy", "\(s.notAudited) not audited"]
        return "audit: " + parts.joined(separator: ", ") + String(format: " (%.2fs, exit %d)", report.duration, report.exitCode)
    }

    /// A titled list of one kind of entry, host by host; nothing when no host has any.
    func section<Entry>(
        _ title: String, _ entries: KeyPath<AuditReport.Host, [Entry]>, into out: inout [String],
        _ line: (Entry) -> String
    ) {
        let hosts = report.hosts.filter { !$0[keyPath: entries].isEmpty }
        guard !hosts.isEmpty else { return }
        out.append("")
        out.append(paint(title, .bold))
        for host in hosts {
            for entry in host[keyPath: entries] { out.append("  " + host.host + "  " + line(entry)) }
        }
    }

    enum Style: String {
        case bold = "1", red = "31", green = "32", yellow = "33"
    }

    func paint(_ text: String, _ style: Style) -> String {
        color ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}
