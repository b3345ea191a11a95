import OrderedCollections
import QuorumValues

/// One render of a parsed template: it walks the tree with the render's own scope (the variables plus the
/// frames `for`, `set` and `include` push), so concurrent renders of one cached tree never meet.
struct NodeRenderer {
    let scope: TemplateScope
    /// Where `{% include %}` finds files; nil where there are no files (a playbook value).
    let includes: (any TemplateLoader)?
    /// The files being rendered, outermost first (the template's own, then each include on the way).
    let chain: [String]

    func render(_ nodes: [TemplateNode]) throws -> String {
        var output = ""
        for node in nodes { try render(node, into: &output) }
        return output
    }

    private var evaluator: TemplateEvaluator { TemplateEvaluator(scope: scope) }

    private func render(_ node: TemplateNode, into output: inout String) throws {
        switch node {
        case .text(let text):
            output += text
        case .output(let expression, let position):
            do { output += try evaluator.value(expression).description } catch { throw error.placed(at: position) }
        case .conditional(let branches):
            // A condition on an undefined variable is an error, not false.
            for branch in branches {
                if let condition = branch.condition {
                    let truth: Bool
                    do { truth = try evaluator.truth(condition) } catch { throw error.placed(at: branch.position) }
                    if !truth { continue }
                }
                output += try render(branch.body)
                return
            }
        case .loop(let loop):
            output += try render(loop)
        case .assignment(let name, let expression, let position):
            do { scope.set(name, try evaluator.value(expression)) } catch { throw error.placed(at: position) }
        case .include(let name, let position):
            output += try include(name, at: position)
        }
    }

    /// Inside the body: `loop.index` (from 1), `loop.index0`, `loop.revindex`, `loop.revindex0`,
    /// `loop.first`, `loop.last`, `loop.length`, and Stencil's `forloop.counter`, `forloop.counter0`,
    /// `forloop.first`, `forloop.last`, `forloop.length` (templates written for Stencil keep working).
    private func render(_ loop: TemplateLoop) throws -> String {
        var frames: [[String: Value]] = []
        do {
            let items: [Value]
            switch try evaluator.value(loop.iterable) {
            case .list(let list):
                items = list
            case .map(let map):
                items = loop.targets.count == 1 ? map.keys.map(Value.string) : map.map { .list([.string($0.key), $0.value]) }
            case let other:
                throw TemplateError("`for` needs a list or a map, but `\(evaluator.describe(loop.iterable))` is a \(other.typeName)")
            }
            for item in items {
                let frame = try Self.bind(loop.targets, to: item)
                if let filter = loop.filter {
                    scope.push(frame)
                    defer { scope.pop() }
                    if try !evaluator.truth(filter) { continue }
                }
                frames.append(frame)
            }
        } catch {
            throw error.placed(at: loop.position)
        }
        if frames.isEmpty { return try render(loop.otherwise) }
        var output = ""
        let count = frames.count
        for (index, var frame) in frames.enumerated() {
            frame["loop"] = .map([
                ("index", .int(index + 1)), ("index0", .int(index)), ("revindex", .int(count - index)),
                ("revindex0", .int(count - index - 1)), ("first", .bool(index == 0)), ("last", .bool(index == count - 1)),
                ("length", .int(count))
            ])
            frame["forloop"] = .map([
                ("counter", .int(index + 1)), ("counter0", .int(index)), ("first", .bool(index == 0)),
                ("last", .bool(index == count - 1)), ("length", .int(count))
            ])
            scope.push(frame)
            defer { scope.pop() }
            output += try render(loop.body)
        }
        return output
    }

    private static func bind(_ targets: [String], to item: Value) throws -> [String: Value] {
        guard targets.count > 1 else { return [targets[0]: item] }
        guard case .list(let parts) = item, parts.count >= targets.count else {
            throw TemplateError("cannot unpack a \(item.typeName) into \(targets.joined(separator: ", "))")
        }
        var frame: [String: Value] = [:]
        for (name, part) in zip(targets, parts) { frame[name] = part }
        return frame
    }
}
