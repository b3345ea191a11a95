import Foundation
import QuorumCore
import Testing

@testable import QuorumSteps

/// A required argument given as null (`~`) is missing, found at load time with its location, not on every host
/// at run time (issue 17).
@Suite struct RequiredNullTests {
    static func diagnostics(_ playbook: String) throws -> [Diagnostic] {
        let path = NSTemporaryDirectory() + "quorum-required-null-\(UUID().uuidString.prefix(8)).yml"
        try playbook.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var collector = DiagnosticCollector()
        _ = PlaybookLoader(catalog: StepCatalog.byName).loadCollecting(path, into: &collector)
        return collector.diagnostics
    }

    @Test("template: {src: a.j2, dest: ~} and copy: {dest: null}: each an error at the null, naming the argument")
    func nullRequiredArgumentsAreMissing() throws {
        let errors = try Self.diagnostics(
            """
            - hosts: all
              steps:
                - template: {src: a.j2, dest: ~}
                - copy: {content: x, dest: null}
                - copy: {content: x, dest: /etc/x, owner: ~}
            """)
        #expect(errors.count == 2, "\(errors.map(\.description))")
        #expect(
            errors.first?.message == "`template.dest` is required, found null" && errors.first?.location?.line == 3
                && errors.first?.location?.column == 35, "\(errors.map(\.description))")
        #expect(
            errors.last?.message == "`copy.dest` is required, found null" && errors.last?.location?.line == 4,
            "\(errors.map(\.description))")
    }
}
