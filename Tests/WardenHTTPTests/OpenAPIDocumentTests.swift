import Foundation
import Testing

@testable import WardenHTTP

/// The OpenAPI document against the router: every documented operation is a route, and every route is documented
/// (a dialect whose routes are not yet written into it would be listed by prefix, so that the list can only shrink).
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    /// Dialects whose routes the document does not describe yet: none.
    static let notYetDocumented: [String] = []

    @Test func everyOperationIsARouteAndEveryRouteIsDocumented() async throws {
        let harness = try await Harness()
        var services = harness.services
        services.metrics = { "" }
        let routes = Set(buildRouter(services).routes.map { "\($0.method) \($0.path)" })
        let documented = Set(OpenAPIDocument.operations.map { "\($0.method) \($0.path)" })
        #expect(documented.count == OpenAPIDocument.operations.count, "an operation is documented twice")
        #expect(documented.subtracting(routes).isEmpty, "documented but not routes: \(documented.subtracting(routes).sorted())")
        let missing = routes.subtracting(documented).filter { route in
            let path = String(route.split(separator: " ", maxSplits: 1).last ?? "")
            return !Self.notYetDocumented.contains { path.hasPrefix($0) }
        }
        #expect(missing.isEmpty, "routes the document lacks: \(missing.sorted())")
        // A prefix of the list that no longer hides a route has been documented: it must leave the list.
        for prefix in Self.notYetDocumented {
            #expect(
                routes.subtracting(documented).contains { $0.split(separator: " ", maxSplits: 1).last?.hasPrefix(prefix) == true },
                "\(prefix) is documented now")
        }
    }

    @Test func theDocumentIsOpenAPI31WithAnAnswerForEveryOperation() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json(version: "test").utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for (path, methods) in paths {
            for (method, operation) in methods {
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                #expect(!responses.isEmpty, "\(method) \(path) has no answers")
            }
        }
    }
}
