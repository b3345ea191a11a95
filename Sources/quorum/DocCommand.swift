import ArgumentParser
import Foundation
import QuorumCore
import QuorumSteps

/// `quorum doc [STEP]`: the step kinds and their arguments.
struct DocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doc", abstract: "Describe step kinds and their arguments.")

    @Argument(help: "A step kind; without one, list them all.")
    var step: String?

    func run() throws {
        guard let step else {
            for kind in StepCatalog.kinds { print("\(kind.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(kind.summary)") }
            return
        }
        guard let kind = StepCatalog.byName[step] else {
            let hint = DidYouMean.hint(for: step, among: StepCatalog.byName.keys).map { " (\($0))" } ?? ""
            throw ValidationError("no step kind `\(step)`\(hint)")
        }
        print("\(kind.name): \(kind.summary)")
        if let family = kind.defaultsFamily { print("  shared arguments may come from the play's `defaults: {\(family): …}`") }
        if kind.runsOncePerPlay { print("  runs once per play (a shared service)") }
        if kind.isHealthCheck { print("  a health check: read-only, runs alike in check mode and audits; a failure there is health (exit 5)") }
        print(describe(kind.schema, indent: "  "), terminator: "")
    }

    func describe(_ schema: ArgSchema, indent: String) -> String {
        var out = ""
        for field in schema.fields {
            let fallback = field.defaultValue.map { ", default \($0)" } ?? ""
            var line = "\(indent)\(field.name) (\(field.type.description)\(field.required ? ", required" : "")\(field.secret ? ", secret" : "")\(fallback))"
            if !field.summary.isEmpty { line += ": \(field.summary)" }
            out += line + "\n"
            if let inner = field.type.innerSchema { out += describe(inner, indent: indent + "  ") }
        }
        if let freeForm = schema.freeForm { out += "\(indent)a plain string sets `\(freeForm)`\n" }
        for group in schema.oneRequired { out += "\(indent)one of \(ArgumentCheck.names(group)) is required\n" }
        for group in schema.mutuallyExclusive where !schema.oneRequired.contains(group) {
            out += "\(indent)at most one of \(ArgumentCheck.names(group))\n"
        }
        return out
    }
}
