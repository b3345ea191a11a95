/// A test's set-up went wrong (a missing binary, a helper that would not start): says what, for the test's failure.
public struct TestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
