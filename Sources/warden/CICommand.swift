import ArgumentParser
import Foundation

/// `warden ci …`: the CI admin commands, a client of the server's admin routes (the runners API v4 for groups,
/// projects, registration tokens and runners; the Candor routes for pipelines and dashboard users; the tenant routes
/// for tenants). They need an admin token.
struct CICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci", abstract: "Create CI tenants, groups, projects, pipelines and dashboard users; list runners.",
        discussion: """
            Example:
              warden ci tenant create example
              warden ci project create app --tenant example
              warden ci registration-token --project root/app
              warden ci pipeline create @pipeline.json
            """,
        subcommands: [
            CITenantCommand.self, CIGroupCommand.self, CIProjectCommand.self, CIRegistrationTokenCommand.self, CIPipelineCommand.self,
            CIUserCommand.self, CIRunnerListCommand.self,
        ])
}

struct CITenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create and list tenants; put a project into a tenant.",
        subcommands: [CITenantCreateCommand.self, CITenantListCommand.self, CITenantAddProjectCommand.self])
}

struct CITenantCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a tenant.")

    @Argument(help: "The tenant's name (letters, digits, '-', '_', '.').") var name: String
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let reply = try await server.client().expect([201], "POST", "api/tenants", json: ["name": name])
        server.format == .json ? Output.json(reply.json ?? [:]) : print("tenant \(name) created")
    }
}

struct CITenantListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tenants with their number of projects.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let tenants = try await server.client().expect([200], "GET", "api/tenants").json as? [[String: Any]] ?? []
        if server.format == .json { return Output.json(tenants) }
        Output.table(["NAME", "PROJECTS"], tenants.map { ["\($0["name"] ?? "")", "\($0["projects"] ?? 0)"] })
    }
}

struct CITenantAddProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-project", abstract: "Put a project into a tenant (a project is in one tenant at most).")

    @Argument(help: "The tenant.") var tenant: String
    @Argument(help: "The project: its id or its path (group/name, or root/name outside a group).") var project: String
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let tenantPath = tenant.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? tenant
        _ = try await server.client().expect([200], "POST", "api/tenant/\(tenantPath)/projects", json: ["project": project])
        print("project \(project) is in tenant \(tenant)")
    }
}

struct CIGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Create groups (companies).", subcommands: [CIGroupCreateCommand.self])
}

struct CIGroupCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a group.")

    @Argument(help: "The group's name.") var name: String
    @Option(help: "The group's path (default: the name).") var path: String?
    @OptionGroup var server: ServerOptions

    func run() async throws {
        var body: [String: Any] = ["name": name]
        if let path { body["path"] = path }
        let reply = try await server.client().expect([201], "POST", "api/v4/groups", json: body)
        let group = reply.json as? [String: Any] ?? [:]
        server.format == .json ? Output.json(group) : print("group \(group["full_path"] ?? name) created with id \(group["id"] ?? "?")")
    }
}

struct CIProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Create projects.", subcommands: [CIProjectCreateCommand.self])
}

struct CIProjectCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a project, in a group and a tenant when given.")

    @Argument(help: "The project's name.") var name: String
    @Option(help: "The project's path (default: the name, lowercased, spaces as '-').") var path: String?
    @Option(help: "The group: its id or its path.") var group: String?
    @Option(help: "The tenant the project belongs to.") var tenant: String?
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = try server.client()
        var body: [String: Any] = ["name": name]
        if let path { body["path"] = path }
        if let tenant { body["tenant"] = tenant }
        if let group {
            let reference = group.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? group
            let found = try await client.expect([200], "GET", "api/v4/groups/\(reference)").json as? [String: Any]
            body["namespace_id"] = found?["id"]
        }
        let project = try await client.expect([201], "POST", "api/v4/projects", json: body).json as? [String: Any] ?? [:]
        if server.format == .json { return Output.json(project) }
        print("project \(project["path_with_namespace"] ?? name) created with id \(project["id"] ?? "?")")
    }
}

struct CIRegistrationTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registration-token",
        abstract: "Make a new runner registration token (instance, group or project) and print it; the previous one stops working.",
        discussion: "Example: warden runner --registration-token $(warden ci registration-token --project root/app) ...")

    @Option(help: "A project (id or path): a token for project runners.") var project: String?
    @Option(help: "A group (id or path): a token for group runners.") var group: String?
    @OptionGroup var server: ServerOptions

    func validate() throws {
        if project != nil, group != nil { throw ValidationError("--project and --group: give one of them, or neither for the instance") }
    }

    func run() async throws {
        func encoded(_ reference: String) -> String { reference.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? reference }
        var path = "api/v4/runners/reset_registration_token"
        if let project { path = "api/v4/projects/\(encoded(project))/runners/reset_registration_token" }
        if let group { path = "api/v4/groups/\(encoded(group))/runners/reset_registration_token" }
        let reply = try await server.client().expect([201], "POST", path)
        guard let token = (reply.json as? [String: Any])?["token"] as? String else { throw ServerError(reply: reply) }
        print(token)
    }
}

struct CIPipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "Create and list Candor pipelines.",
        subcommands: [CIPipelineCreateCommand.self, CIPipelineListCommand.self])
}

struct CIPipelineCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a pipeline from its JSON (see docs/candor-api.md); prints its id and trigger token.",
        discussion: """
            Example: warden ci pipeline create @pipeline.json, with pipeline.json:
              {"project": "root/app", "name": "build", "tags": ["linux"], "parameters": ["who"],
               "plan": {"stages": [{"name": "hello", "image": "debian:12", "script": ["echo hello %who%"]}]}}
            """)

    @Argument(help: "The pipeline: JSON text or @file.") var pipeline: String
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let body = try readJSON(pipeline, argument: "pipeline")
        guard body is [String: Any] else { throw ValidationError("pipeline: must be a JSON object") }
        let created = try await server.client().expect([201], "POST", "api/pipelines", json: body).json as? [String: Any] ?? [:]
        if server.format == .json { return Output.json(created) }
        print("pipeline \(created["id"] ?? "?") (\(created["name"] ?? "")) created; trigger token (shown once): \(created["triggerToken"] ?? "")")
    }
}

struct CIPipelineListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List pipelines.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let pipelines = try await server.client().expect([200], "GET", "api/pipelines").json as? [[String: Any]] ?? []
        if server.format == .json { return Output.json(pipelines) }
        Output.table(
            ["ID", "NAME", "PROJECT", "TAGS", "PUBLIC"],
            pipelines.map {
                [
                    "\($0["id"] ?? "")", "\($0["name"] ?? "")", "\($0["projectId"] ?? "")", ($0["tags"] as? [String] ?? []).joined(separator: ","),
                    "\($0["public"] as? Bool ?? false)",
                ]
            })
    }
}

struct CIUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create dashboard users.", subcommands: [CIUserCreateCommand.self])
}

struct CIUserCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a dashboard user; the password is read from standard input (one line).",
        discussion: "Example: printf '%s\\n' \"$PASSWORD\" | warden ci user create ada")

    @Argument(help: "The username.") var username: String
    @OptionGroup var server: ServerOptions

    func run() async throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("password: give it on standard input (one line)")
        }
        let user = try await server.client().expect([201], "POST", "api/users", json: ["username": username, "password": line]).json
        server.format == .json ? Output.json(user ?? [:]) : print("user \(username) created")
    }
}

struct CIRunnerListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runners", abstract: "List every runner (all pages).")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = try server.client()
        var runners: [[String: Any]] = []
        var page = 1
        while true {
            let reply = try await client.expect([200], "GET", "api/v4/runners/all", query: ["per_page": "100", "page": "\(page)"])
            let items = reply.json as? [[String: Any]] ?? []
            runners += items
            if items.count < 100 { break }
            page += 1
        }
        if server.format == .json { return Output.json(runners) }
        Output.table(
            ["ID", "DESCRIPTION", "TYPE", "STATUS", "ACTIVE"],
            runners.map {
                [
                    "\($0["id"] ?? "")", "\($0["description"] ?? "")", "\($0["runner_type"] ?? "")", "\($0["status"] ?? "")",
                    ($0["active"] as? Bool).map { "\($0)" } ?? "",
                ]
            })
    }
}
