import Foundation

/// JUnit XML as CI systems read it: `<testsuites>` of `<testsuite>`s of `<testcase>`s, each passing or with a
/// `<failure>`, an `<error>`, `<skipped>` and `<system-out>`. The audit's and apply's reports (`--format junit`)
/// decide what their cases say; this writes them, counts and escaping included.
public struct JUnitDocument: Sendable {
    public struct Failure: Sendable {
        public var type: String
        public var message: String
        public var text: String

        public init(type: String, message: String, text: String) {
            self.type = type
            self.message = message
            self.text = text
        }
    }

    public struct Case: Sendable {
        public var className: String
        public var name: String
        public var time: Double
        public var failure: Failure?
        /// (type, message)
        public var error: (type: String, message: String)?
        public var skipped: String?
        public var systemOut: String?

        public init(className: String, name: String, time: Double) {
            self.className = className
            self.name = name
            self.time = time
        }
    }

    public struct Suite: Sendable {
        public var name: String
        public var cases: [Case]

        public init(name: String, cases: [Case]) {
            self.name = name
            self.cases = cases
        }
    }

    /// The `<testsuites>` name (`quorum audit`, `quorum apply`).
    public var name: String
    public var suites: [Suite]
    /// The whole run's seconds.
    public var time: Double

    public init(name: String, suites: [Suite], time: Double) {
        self.name = name
        self.suites = suites
        self.time = time
    }

    public func render() -> String {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += "<testsuites name=\"\(Self.escape(name))\"\(counts(suites.flatMap(\.cases))) time=\"\(seconds(time))\">\n"
        for suite in suites {
            xml += "  <testsuite name=\"\(Self.escape(suite.name))\"\(counts(suite.cases))"
            xml += " time=\"\(seconds(suite.cases.reduce(0) { $0 + $1.time }))\">\n"
            for testcase in suite.cases { xml += render(testcase) }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    func render(_ testcase: Case) -> String {
        var xml = "    <testcase classname=\"\(Self.escape(testcase.className))\" name=\"\(Self.escape(testcase.name))\""
        xml += " time=\"\(seconds(testcase.time))\""
        guard testcase.failure != nil || testcase.error != nil || testcase.skipped != nil || testcase.systemOut != nil else {
            return xml + "/>\n"
        }
        xml += ">\n"
        if let failure = testcase.failure {
            xml += "      <failure type=\"\(Self.escape(failure.type))\" message=\"\(Self.escape(failure.message))\">"
            xml += "\(Self.escape(failure.text))</failure>\n"
        }
        if let (type, message) = testcase.error {
            xml += "      <error type=\"\(Self.escape(type))\" message=\"\(Self.escape(message))\">\(Self.escape(message))</error>\n"
        }
        if let reason = testcase.skipped { xml += "      <skipped message=\"\(Self.escape(reason))\"/>\n" }
        if let text = testcase.systemOut { xml += "      <system-out>\(Self.escape(text))</system-out>\n" }
        return xml + "    </testcase>\n"
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
    public static func escape(_ text: String) -> String {
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
