import Foundation
import Testing
@testable import QuorumSteps

@Suite struct URLSessionTransportTests {
    @Test("shutdown waits until URLSession has invalidated, and does not take its whole 2 s allowance")
    func shutdownWaitsForInvalidation() async throws {
        let transport = URLSessionTransport(timeout: 5)
        // One request that finds nothing listening, so the session has really started its machinery.
        _ = try? await transport.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:9/")!, headers: [:], body: nil))
        let started = ContinuousClock.now
        await transport.shutdown()
        #expect(transport.isInvalidated, "the session never reported its invalidation")
        #expect(ContinuousClock.now - started < .seconds(1))
    }
}
