import Hummingbird
import WardenCore

/// The server's own routes under `/api`: its version (any caller with a token; anonymous callers are refused, as
/// a version tells an attacker which flaws to try).
struct SystemAPI<Context: CallerRequestContext>: Sendable {
    let build: BuildInfo
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        let api = router.group("api").add(middleware: WorkerErrorMiddleware<Context>())
        let callers = api.group().add(middleware: CallerMiddleware<Context>(auth: auth))
        callers.get("version") { _, context in
            _ = try context.requireCaller()
            return try Response.json(encoding: build)
        }
    }
}
