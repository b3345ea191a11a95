import OrderedCollections
import QuorumCore

/// Renders variables whose values are templates (`transport_url: "rabbit://{{ rabbit_user }}:…"`), in
/// dependency order, each exactly once: a rendered value is never rendered again, so a value that merely
/// contains `{{` after substitution is kept literally.
struct VariableResolver {
    let templates: TemplateRenderer

    /// `layers` from low to high precedence; each layer's values may refer to any variable. Returns the
    /// merged, fully rendered variables. `locations` tells where a variable was written, for errors.
    /// `settled` names variables the caller already knows hold no template (values shared by every host,
    /// looked at once): they are taken as they are, without walking them again.
    func resolve(
        _ merged: Variables, locations: [String: SourceLocation], fallback: SourceLocation,
        settled: Set<String> = []
    ) throws -> Variables {
        var result = merged
        var state: [String: Bool] = [:]  // false = in progress, true = done
        for name in settled where merged[name] != nil { state[name] = true }

        func visit(_ name: String, chain: [String]) throws {
            if state[name] == true { return }
            guard let value = result[name], Self.containsTemplate(value) else {
                state[name] = true
                return
            }
            if state[name] == false {
                throw TemplateError(
                    message: "variables refer to each other in a loop: \((chain + [name]).joined(separator: " → "))",
                    location: locations[name] ?? fallback)
            }
            state[name] = false
            for dependency in Self.referencedNames(in: value, templates: templates).sorted() where dependency != name {
                if result[dependency] != nil { try visit(dependency, chain: chain + [name]) }
            }
            let location = locations[name] ?? fallback
            result[name] = try templates.renderValue(value, at: location, variables: result)
            state[name] = true
        }

        for name in merged.keys { try visit(name, chain: []) }
        return result
    }

    static func containsTemplate(_ value: Value) -> Bool {
        switch value {
        case .string(let s): return TemplateRenderer.isTemplate(s)
        case .list(let items): return items.contains(where: containsTemplate)
        case .map(let map): return map.contains { TemplateRenderer.isTemplate($0.key) || containsTemplate($0.value) }
        default: return false
        }
    }

    static func referencedNames(in value: Value, templates: TemplateRenderer) -> Set<String> {
        switch value {
        case .string(let s): return TemplateRenderer.isTemplate(s) ? templates.referencedNames(in: s) : []
        case .list(let items): return items.reduce(into: Set<String>()) { $0.formUnion(referencedNames(in: $1, templates: templates)) }
        case .map(let map):
            return map.reduce(into: Set<String>()) {
                $0.formUnion(referencedNames(in: .string($1.key), templates: templates))
                $0.formUnion(referencedNames(in: $1.value, templates: templates))
            }
        default: return []
        }
    }
}
