import Foundation
import QuorumCore

/// `quorum apply --confirm`: after the plan (a check run shown as the audit's drift table), whether to apply.
/// The question is asked only on a terminal: a script or a pipe cannot have read the plan, so without `--yes`
/// it stops there with exit 4 (changes are due and were not made).
public struct ApplyConfirmation: Sendable {
    public enum Decision: Equatable, Sendable {
        /// The operator answered y or yes, or gave `--yes`.
        case apply
        /// The check found nothing to change: nothing to apply (exit 0).
        case nothingPlanned
        /// Any answer but y or yes, or the end of input (exit 0, nothing applied).
        case declined
        /// stdin is not a terminal and `--yes` was not given (exit 4, nothing applied).
        case noTerminal
        /// The check itself failed, found a host unreachable or was interrupted: its exit code, nothing applied.
        case planFailed(ExitStatus)
    }

    public static let question = "Apply these changes? [y/N] "

    public var yes: Bool
    public var stdinIsTerminal: Bool
    /// Puts the question and reads one answer line (nil at the end of input).
    public var ask: @Sendable (String) -> String?

    public init(
        yes: Bool, stdinIsTerminal: Bool = isatty(STDIN_FILENO) == 1,
        ask: @escaping @Sendable (String) -> String? = ApplyConfirmation.askOnTerminal
    ) {
        self.yes = yes
        self.stdinIsTerminal = stdinIsTerminal
        self.ask = ask
    }

    /// Decides from the plan's report (`interrupted`: the check run was stopped); asks only when it must.
    public func decide(plan: AuditReport, interrupted: Bool) -> Decision {
        if interrupted { return .planFailed(.interrupted) }
        switch plan.exitStatus {
        case .unreachable, .stepFailed, .invalid, .interrupted: return .planFailed(plan.exitStatus)
        case .success, .unhealthy: return .nothingPlanned
        case .drift: break
        }
        // With --strict off, drift is what apply changes; an audit's findings alone never make a plan.
        guard plan.summary.driftedSteps > 0 else { return .nothingPlanned }
        if yes { return .apply }
        guard stdinIsTerminal else { return .noTerminal }
        return Self.isYes(ask(Self.question)) ? .apply : .declined
    }

    /// y or yes, in any case, spaces around ignored.
    public static func isYes(_ answer: String?) -> Bool {
        guard let answer else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
    }

    /// The question on stderr (stdout may carry a document), the answer from stdin.
    @Sendable public static func askOnTerminal(_ question: String) -> String? {
        FileHandle.standardError.write(Data(question.utf8))
        return readLine(strippingNewline: true)
    }
}

extension ApplyConfirmation.Decision {
    /// When nothing is applied: what to say on stderr, and the exit code; nil for `.apply`.
    public var stop: (message: String, status: ExitStatus)? {
        switch self {
        case .apply: nil
        case .nothingPlanned: ("quorum apply --confirm: the check found nothing to change; nothing applied", .success)
        case .declined: ("quorum apply --confirm: not confirmed; nothing applied", .success)
        case .noTerminal:
            (
                "quorum apply --confirm: stdin is not a terminal, so nobody can confirm the plan; nothing applied "
                    + "(give --yes to apply without asking)", .drift
            )
        case .planFailed(let status):
            ("quorum apply --confirm: the check failed (exit \(status.rawValue)); nothing applied", status)
        }
    }
}
