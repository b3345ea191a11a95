import ArgumentParser

/// `--format` of `apply` and `audit`: what stdout carries. With json or junit, stdout is exactly that document
/// (anything else goes to stderr), so it can be piped to a parser.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, junit
}
