import ArgumentParser
import Foundation

@main
struct Quorum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorum",
        abstract: "Deploy and audit highly-available OpenStack control planes over SSH.",
        discussion: """
        Exit codes: 0 success (no drift), 1 usage or validation error (nothing contacted), 2 a step failed,
        3 a host was unreachable, 4 check or audit found drift.
        """,
        subcommands: [ApplyCommand.self, AuditCommand.self, ValidateCommand.self, InventoryCommand.self, DocCommand.self, VaultCommand.self]
    )
}
