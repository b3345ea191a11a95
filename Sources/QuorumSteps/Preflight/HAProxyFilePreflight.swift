import Foundation
import QuorumCore

extension ManagedFile {
    /// True when `validate` checks the file with HAProxy (`haproxy -c …`, directly or through a script).
    var validatesWithHAProxy: Bool { validate?.contains("haproxy") ?? false }

    /// Preflight of a file that HAProxy validates (a stanza in `conf.d`): the rest of HAProxy's configuration
    /// must be valid now, for the new file's validation can only pass on a valid base. The validate command
    /// runs read-only on the current files: with the current `dest` in the file's place, else (the current
    /// `dest` is missing or broken — the run may be repairing it) with an empty file (`/dev/null`) in its place.
    /// So a broken stanza the run replaces never fails the preflight; a broken main file or another broken
    /// stanza does, before anything is written.
    func preflightHAProxyBase(_ context: StepContext) async throws {
        guard let validate, validatesWithHAProxy else { return }
        let withCurrent = validate.replacingOccurrences(of: "%s", with: Shell.quote(dest))
        let withoutFile = validate.replacingOccurrences(of: "%s", with: "/dev/null")
        let script = """
            PATH="$PATH:/usr/sbin:/sbin"; export PATH
            if [ -f \(Shell.quote(dest)) ] && { \(withCurrent) ; } >/dev/null 2>&1; then exit 0; fi
            { \(withoutFile) ; } 2>&1
            """
        let result = try await context.remote.probe(script)
        guard result.succeeded else {
            throw StepFailure(
                "HAProxy's configuration is invalid without \(dest) (its validate command fails on the current files, "
                    + "so no new \(dest) could pass it)", detail: result.stdoutText.trimmingTrailingWhitespace())
        }
    }
}

extension TemplateStep {
    public func preflight(_ context: StepContext) async throws { try await file.preflightHAProxyBase(context) }
}

extension CopyStep {
    public func preflight(_ context: StepContext) async throws { try await file.preflightHAProxyBase(context) }
}
