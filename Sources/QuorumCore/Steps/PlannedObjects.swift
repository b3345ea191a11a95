import Synchronization

/// In check mode, the objects that earlier steps of the run *would* create, keyed by kind and identity
/// (`keystone_service` / `magnum/container-infra`), with a placeholder id. A later step that depends on one
/// (an endpoint of that service, a grant on that database) finds it here and reports "would create"
/// instead of failing with "does not exist" — the classic dry-run trap. Apply never records anything.
public final class PlannedObjects: Sendable {
    private let objects = Mutex<[String: String]>([:])

    public init() {}

    /// Records that `kind`/`identity` would be created; returns its placeholder id.
    @discardableResult
    public func plan(_ kind: String, _ identity: String) -> String {
        let placeholder = "(planned \(kind) \(identity))"
        objects.withLock { $0["\(kind)\u{1F}\(identity)"] = placeholder }
        return placeholder
    }

    /// The placeholder id when `kind`/`identity` would be created by an earlier step.
    public func placeholder(_ kind: String, _ identity: String) -> String? {
        objects.withLock { $0["\(kind)\u{1F}\(identity)"] }
    }

    public static func isPlaceholder(_ id: String) -> Bool { id.hasPrefix("(planned ") }
}
