import ArgumentParser

@main
struct Quorum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deploy and audit highly-available OpenStack control planes.")
}
