import Foundation

/// The parts of `crm_mon -1 --output-as=xml` that `pcs_resource` needs: for one resource (a primitive, a
/// clone or a group, named by its own id or its clone's), the nodes it runs on, whether it is disabled
/// (`target_role="Stopped"`) and whether it has failed operations. A small tag scanner: crm_mon's XML is
/// flat, machine-written and needs no entity handling for the attributes read here.
struct CrmMonStatus: Sendable, Equatable {
    struct Tag: Sendable, Equatable {
        var name: String
        var attributes: [String: String]
        var closing: Bool
        var selfClosing: Bool
    }

    var exists = false
    var runningOn: [String] = []
    var disabled = false
    var failures: [String] = []

    static func tags(_ xml: String) -> [Tag] {
        var tags: [Tag] = []
        var rest = Substring(xml)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            var body = rest[rest.index(after: open)..<close]
            rest = rest[rest.index(after: close)...]
            if body.hasPrefix("?") || body.hasPrefix("!") { continue }
            let closing = body.hasPrefix("/")
            if closing { body = body.dropFirst() }
            let selfClosing = body.hasSuffix("/")
            if selfClosing { body = body.dropLast() }
            let name = String(body.prefix { !$0.isWhitespace })
            var attributes: [String: String] = [:]
            var scan = body.dropFirst(name.count)
            while let eq = scan.firstIndex(of: "=") {
                let key = scan[..<eq].trimmingCharacters(in: .whitespaces)
                let afterEq = scan[scan.index(after: eq)...]
                guard let quote = afterEq.first, quote == "\"" || quote == "'" else { break }
                let valueStart = afterEq.index(after: afterEq.startIndex)
                guard let valueEnd = afterEq[valueStart...].firstIndex(of: quote) else { break }
                attributes[key] = unescape(String(afterEq[valueStart..<valueEnd]))
                scan = afterEq[afterEq.index(after: valueEnd)...]
            }
            tags.append(Tag(name: name, attributes: attributes, closing: closing, selfClosing: selfClosing))
        }
        return tags
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// `resource` as crm_mon shows it. Inside `<resources>`, a `<clone>`/`<group>`/`<bundle>` whose id is
    /// `resource` counts with everything in it, and so does a container holding a primitive named `resource`.
    static func parse(_ xml: String, resource: String) -> CrmMonStatus {
        var status = CrmMonStatus()
        let all = tags(xml)
        var inResources = false
        var containers: [(id: String, disabled: Bool, matches: Bool)] = []
        var primitive: (matches: Bool, disabled: Bool)?
        var nodes = Set<String>()
        var order: [String] = []
        // A container matches when its id is the resource or when it holds a primitive of that id.
        var containerHoldsResource: [String: Bool] = [:]
        var currentContainer: String?
        for tag in all where tag.name == "clone" || tag.name == "group" || tag.name == "bundle" || tag.name == "resource" {
            if ["clone", "group", "bundle"].contains(tag.name), !tag.closing { currentContainer = tag.attributes["id"] }
            if tag.name == "resource", !tag.closing, let id = tag.attributes["id"], id == resource || id.hasPrefix(resource + ":"),
                let container = currentContainer
            {
                containerHoldsResource[container] = true
            }
            if ["clone", "group", "bundle"].contains(tag.name), tag.closing { currentContainer = nil }
        }
        for tag in all {
            switch (tag.name, tag.closing) {
            case ("resources", false): inResources = true
            case ("resources", true): inResources = false
            case ("clone", false), ("group", false), ("bundle", false):
                guard inResources else { continue }
                let id = tag.attributes["id"] ?? ""
                let matches = id == resource || containerHoldsResource[id] == true
                let disabled = tag.attributes["target_role"]?.lowercased() == "stopped"
                containers.append((id, disabled, matches))
                if matches {
                    status.exists = true
                    if disabled { status.disabled = true }
                }
                if tag.selfClosing { containers.removeLast() }
            case ("clone", true), ("group", true), ("bundle", true):
                if inResources, !containers.isEmpty { containers.removeLast() }
            case ("resource", false):
                guard inResources else { continue }
                let id = tag.attributes["id"] ?? ""
                let matches = id == resource || id.hasPrefix(resource + ":") || containers.contains { $0.matches }
                let disabled = tag.attributes["target_role"]?.lowercased() == "stopped"
                primitive = (matches, disabled)
                if matches {
                    status.exists = true
                    if disabled && !containers.contains(where: { $0.matches }) { status.disabled = true }
                }
                if tag.selfClosing { primitive = nil }
            case ("resource", true):
                primitive = nil
            case ("node", false):
                if inResources, let p = primitive, p.matches, let name = tag.attributes["name"] {
                    if nodes.insert(name).inserted { order.append(name) }
                }
            case ("failure", false):
                if let key = tag.attributes["op_key"], key.hasPrefix(resource + "_") || key.hasPrefix(resource + ":") {
                    status.failures.append(
                        "\(key) on \(tag.attributes["node"] ?? "?"): \(tag.attributes["exitreason"] ?? tag.attributes["status"] ?? "failed")")
                }
            default: continue
            }
        }
        status.runningOn = order.sorted()
        return status
    }
}
