import Foundation
import QuorumCore

/// The audit as JUnit XML (`--format junit`), so CI systems show drift as failing tests: one testsuite
/// per host, one testcase per step probed (classname = play, name = step). Drift is a `<failure>` with the
/// difference lines, a failed health check a `<failure type="health">` with what is wrong, a failed probe or
/// an unreachable host an `<error>`, a step not audited `<skipped>`;
/// findings go to the step's `<system-out>`, or into its `<failure>` with `--strict`.
public struct AuditJUnit: Sendable {
    public let report: AuditReport
    /// The run's step reports (already redacted), in order.
    public let results: [StepReport]

    public init(report: AuditReport, results: [StepReport]) {
        self.report = report
        self.results = results
    }

    struct Case {
        var play: String
        var name: String
        var time: Double
        /// (type, message, text)
        var failure: (String, String, String)?
        var error: (String, String)?
        var skipped: String?
        var systemOut: String?
    }

    public func render() -> String {
        var suites: [(host: String, cases: [Case])] = []
        for host in report.hosts {
            var seen = Set<String>()
            var cases: [Case] = []
            for result in results where result.host == host.host {
                let findings = result.findings.filter { seen.insert($0.key).inserted }
                guard var testcase = testcase(result) else { continue }
                if !findings.isEmpty {
                    let text = findings.map { "\($0.severity.rawValue): \($0.file): \($0.message)" }.joined(separator: "\n")
                    if report.strict, testcase.error == nil, testcase.skipped == nil {
                        if let (type, message, body) = testcase.failure {
                            testcase.failure = (type, message, body + "\n" + text)
                        } else {
                            testcase.failure = ("finding", "\(findings.count) finding\(findings.count == 1 ? "" : "s")", text)
                        }
                    } else {
                        testcase.systemOut = text
                    }
                }
                cases.append(testcase)
            }
            suites.append((host.host, cases))
        }

        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        let all = suites.flatMap(\.cases)
        xml += "<testsuites name=\"quorum audit\"\(counts(all)) time=\"\(seconds(report.duration))\">\n"
        for suite in suites {
            xml += "  <testsuite name=\"\(Self.escape(suite.host))\"\(counts(suite.cases))"
            xml += " time=\"\(seconds(suite.cases.reduce(0) { $0 + $1.time }))\">\n"
            for testcase in suite.cases {
                xml += "    <testcase classname=\"\(Self.escape(testcase.play))\" name=\"\(Self.escape(testcase.name))\""
                xml += " time=\"\(seconds(testcase.time))\""
                let children = testcase.failure != nil || testcase.error != nil || testcase.skipped != nil || testcase.systemOut != nil
                guard children else { xml += "/>\n"; continue }
                xml += ">\n"
                if let (type, message, text) = testcase.failure {
                    xml += "      <failure type=\"\(type)\" message=\"\(Self.escape(message))\">\(Self.escape(text))</failure>\n"
                }
                if let (type, message) = testcase.error {
                    xml += "      <error type=\"\(type)\" message=\"\(Self.escape(message))\">\(Self.escape(message))</error>\n"
                }
                if let reason = testcase.skipped { xml += "      <skipped message=\"\(Self.escape(reason))\"/>\n" }
                if let text = testcase.systemOut { xml += "      <system-out>\(Self.escape(text))</system-out>\n" }
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// The testcase of one step report; nil for steps that did not probe (a false `when`, an empty loop).
    func testcase(_ result: StepReport) -> Case? {
        var testcase = Case(play: result.play, name: result.displayStep, time: result.duration)
        if let reason = result.unchecked, result.outcome != .failed {
            testcase.skipped = reason
            return testcase
        }
        switch result.outcome {
        case .ok:
            break
        case .changed:
            let lines = result.diffs.flatMap { DiffText.lines($0).map(\.text) }
            testcase.failure = ("drift", "drift: " + (result.message ?? "would change"), lines.joined(separator: "\n"))
        case .failed:
            if result.ignored { break }
            if result.unhealthy {
                let problem = result.error ?? "unhealthy"
                testcase.failure = ("health", "health: " + problem, problem)
            } else {
                testcase.error = ("failed", result.error ?? "failed")
            }
        case .unreachable:
            testcase.error = ("unreachable", result.error ?? "unreachable")
        case .skipped:
            return nil
        }
        return testcase
    }

    func counts(_ cases: [Case]) -> String {
        let failures = cases.filter { $0.failure != nil }.count
        let errors = cases.filter { $0.error != nil }.count
        let skipped = cases.filter { $0.skipped != nil }.count
        return " tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\""
    }

    func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    /// Text for XML content and attribute values: markup characters as entities, line breaks and tabs as
    /// character references (kept in attributes), other control characters (not allowed in XML 1.0) as U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) || (0xD800...0xDFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
