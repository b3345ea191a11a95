/// QuorumCore's callers (steps, engine, command line, tests) used `Value`, `SourceLocation`, `Shell` and
/// `TemplateRenderer` from here before these moved into their own lower targets, so that templating sits
/// below QuorumCore (QuorumCore renders templates; templates know nothing of playbooks). Re-exported so
/// `import QuorumCore` keeps meaning what it meant.
@_exported import QuorumTemplates
@_exported import QuorumValues
