import Foundation
import Testing
@testable import QuorumSteps

@Suite struct URLSessionTransportTests {
    @Test("shutdown returns once URLSession has invalidated (not merely after its 5 s allowance)")
    func shutdownWaitsForInvalidation() async throws {
        let transport = URLSessionTransport(timeout: 5)
        // One request that finds nothing listening, so the session has really started its machinery.
        _ = try? await transport.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:9/")!, headers: [:], body: nil))
        await transport.shutdown()
        // Set only by the session's own last delegate call: a shutdown that merely ran out its allowance leaves it false.
        #expect(transport.isInvalidated, "the session never reported its invalidation")
    }
}
