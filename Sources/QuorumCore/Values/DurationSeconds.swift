extension Duration {
    /// The duration in seconds, with its fraction: what reports and traces print.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
