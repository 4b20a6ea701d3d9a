import ArgumentParser
import Foundation
import Logging
import WardenCore
import WardenStorage

/// `warden token create|list|revoke`: token management on the server's own machine, straight on its database
/// (no token needed; the admin endpoints under /worker/api/v1/tokens do the same over HTTP).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens (on the server's data folder).",
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self])
}

struct DataOptions: ParsableArguments {
    @Option(help: "Data folder of the server (default: WARDEN_DATA or ./data).") var data: String?
    @Option(help: "Database URL (default: WARDEN_DATABASE_URL or <data>/warden.sqlite).") var databaseURL: String?

    /// The server's database, which must exist already (open it with `serve` first).
    func database() async throws -> OpenDatabase {
        let environment = ProcessInfo.processInfo.environment
        let folder = data ?? environment["WARDEN_DATA"] ?? "./data"
        do {
            let url = try DatabaseURL.resolve(databaseURL ?? environment["WARDEN_DATABASE_URL"], dataFolder: folder)
            return try await OpenDatabase.open(url, mustExist: true, logger: Logger(label: "warden"))
        } catch let error as WardenError {
            throw ValidationError(error.code == .notFound ? "--data: \(error.message)" : "--database-url: \(error.message)")
        }
    }

    /// Runs `body` with the server's stores, closing the database after.
    func withStores<T>(_ body: (any Stores) async throws -> T) async throws -> T {
        let database = try await database()
        do {
            let result = try await body(database.stores)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }

    static func tokens(_ stores: any Stores) -> TokenService {
        TokenService(tokens: stores, permissions: permissions(stores))
    }

    static func permissions(_ stores: any Stores) -> PermissionService {
        PermissionService(store: stores, tokens: stores, dashboardUsers: stores)
    }
}

struct TokenCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token and print its value (shown only once).",
        discussion: "Example: warden token create --name ci --scope project-admin --project-key payments --expires-in 86400")

    @Option(help: "A name for the token (shown as who made changes).") var name: String
    @Option(help: "admin, project-admin or user.") var scope: String = "user"
    @Option(help: "The project of a project-admin token.") var projectKey: String?
    @Option(help: "Lifetime in seconds (default: no expiry).") var expiresIn: Int?
    @OptionGroup var store: DataOptions

    func run() async throws {
        do {
            let (record, value) = try await store.withStores { stores in
                try await DataOptions.tokens(stores).create(name: name, scope: scope, projectKey: projectKey, expiresInSeconds: expiresIn, by: nil)
            }
            print("token \(record.id) (\(record.scope.name)\(record.scope.projectKey.map { " of \($0)" } ?? "")): \(value)")
        } catch let error as WardenError where error.code == .badRequest {
            throw ValidationError(error.message)
        }
    }
}

struct TokenListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (never their values).")

    @OptionGroup var store: DataOptions

    func run() async throws {
        let records = try await store.withStores { try await DataOptions.tokens($0).list(by: nil) }
        Output.table(
            ["ID", "NAME", "SCOPE", "PROJECT", "EXPIRES"],
            records.map { record in
                [
                    record.id, record.name, record.scope.name, record.scope.projectKey ?? "",
                    record.expiresAt.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "never",
                ]
            })
    }
}

struct TokenRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by id.")

    @Argument(help: "The token's id (see `warden token list`).") var id: String
    @OptionGroup var store: DataOptions

    func run() async throws {
        try await store.withStores { try await DataOptions.tokens($0).revoke(id: id, by: nil) }
        print("revoked token \(id)")
    }
}
