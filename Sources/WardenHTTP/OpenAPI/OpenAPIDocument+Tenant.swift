// The tenant dialect (Zuul's REST API) in the OpenAPI document.
extension OpenAPIDocument {
    static var tenantDialect: Dialect {
        let error = Schema.object(["error": Schema.string, "description": Schema.string], required: ["error"])
        return Dialect(
            tag: "tenant", error: error, refusals: [400, 401, 403, 404, 413, 503],
            special: [
                403: .empty,
                // An unknown tenant is an HTML page, as on the reference; other absences are JSON.
                404: .media([("text/html", Schema.string), ("application/json", error)]),
            ])
    }

    static var tenant: [Operation] {
        let d = tenantDialect
        let json = "application/json"
        let list = Answer.json(Schema.array(Schema.any))
        let object = Answer.json(Schema.object())
        let paging: [(name: String, schema: Schema.JSON)] = [("limit", Schema.integer), ("skip", Schema.integer)]
        let buildFilters: [(name: String, schema: Schema.JSON)] =
            ["project", "pipeline", "change", "branch", "patchset", "ref", "newrev", "uuid", "job_name", "node_name", "result", "exclude_result"].map
        {
            ($0, Schema.string)
        } + [("voting", Schema.boolean), ("final", Schema.boolean), ("held", Schema.boolean), ("complete", Schema.boolean)]
            + [("idx_min", Schema.integer), ("idx_max", Schema.integer)] + paging
        let t = "/api/tenant/{tenant}"
        var operations: [Operation] = [
            Operation(method: "GET", path: "/api/info", summary: "The server's capabilities", dialect: d, access: .anyone, answers: [200: object]),
            Operation(method: "GET", path: "/api/tenants", summary: "Every tenant", dialect: d, access: .anyone, answers: [200: list]),
            Operation(
                method: "POST", path: "/api/tenants", summary: "Creates a tenant (Warden admin token)", dialect: d,
                body: [(json, Schema.object(["name": Schema.string]))], answers: [201: .json(Schema.any)], refusals: [409]),
            Operation(method: "GET", path: "/api/connections", summary: "The one connection", dialect: d, access: .anyone, answers: [200: list]),
            Operation(method: "GET", path: "/api/components", summary: "This web component", dialect: d, access: .anyone, answers: [200: object]),
            Operation(
                method: "GET", path: "/api/authorizations", summary: "The tenants the caller administers", dialect: d, access: .optionalToken,
                answers: [200: object]),
            Operation(method: "GET", path: "\(t)/info", summary: "The tenant's capabilities", dialect: d, access: .anyone, answers: [200: object]),
            Operation(
                method: "GET", path: "\(t)/projects", summary: "The tenant's projects", dialect: d, access: .anyone, query: paging,
                answers: [200: list]),
            Operation(
                method: "POST", path: "\(t)/projects", summary: "Puts a project into the tenant (Warden admin token)", dialect: d,
                body: [(json, Schema.object(["project": Schema.any]))], answers: [200: .json(Schema.any)], refusals: [409]),
            Operation(
                method: "GET", path: "\(t)/project/**", summary: "A project, or its autoholds (`…/autohold`)", dialect: d, access: .optionalToken,
                answers: [200: .json(Schema.any)]),
            Operation(
                method: "POST", path: "\(t)/project/**", summary: "Enqueues, dequeues or holds (`…/enqueue`, `…/dequeue`, `…/autohold`) (admins)",
                dialect: d, body: [(json, Schema.object())], answers: [200: .json(Schema.any)], refusals: [409]),
            Operation(
                method: "PUT", path: "\(t)/project/**", summary: "Refused: nothing under a project is replaced", dialect: d, access: .optionalToken,
                answers: [:]),
            Operation(
                method: "DELETE", path: "\(t)/project/**", summary: "Refused: nothing under a project is deleted", dialect: d, access: .optionalToken,
                answers: [:]),
            Operation(
                method: "GET", path: "\(t)/autohold", summary: "The tenant's autohold requests", dialect: d, access: .anyone, answers: [200: list]),
            Operation(
                method: "GET", path: "\(t)/autohold/{id}", summary: "One autohold request", dialect: d, access: .anyone, answers: [200: object]),
            Operation(
                method: "DELETE", path: "\(t)/autohold/{id}", summary: "Deletes an autohold request (admins)", dialect: d, answers: [204: .empty]),
            Operation(
                method: "POST", path: "\(t)/promote", summary: "Promotes changes (admins)", dialect: d,
                body: [(json, Schema.object(["pipeline": Schema.string, "changes": Schema.array(Schema.string)]))], answers: [200: .json(Schema.any)]),
            Operation(
                method: "GET", path: "\(t)/builds", summary: "Builds, newest first", dialect: d, access: .optionalToken, query: buildFilters,
                answers: [200: list]),
            Operation(method: "GET", path: "\(t)/build/{uuid}", summary: "One build", dialect: d, access: .optionalToken, answers: [200: object]),
            Operation(
                method: "GET", path: "\(t)/buildsets", summary: "Buildsets, newest first", dialect: d, access: .optionalToken, query: buildFilters,
                answers: [200: list]),
            Operation(
                method: "GET", path: "\(t)/buildset/{uuid}", summary: "One buildset", dialect: d, access: .optionalToken, answers: [200: object]),
            Operation(
                method: "GET", path: "\(t)/badge", summary: "A passing/failing badge", dialect: d, access: .anyone,
                query: [("project", Schema.string), ("pipeline", Schema.string), ("branch", Schema.string)],
                answers: [200: .media([("image/svg+xml", Schema.string)])]),
            Operation(
                method: "GET", path: "\(t)/key/**", summary: "A project's RSA public key (`<project>.pub`)", dialect: d, access: .anyone,
                answers: [200: .text]),
            Operation(
                method: "GET", path: "\(t)/project-ssh-key/**", summary: "A project's SSH public key (`<project>.pub`)", dialect: d, access: .anyone,
                answers: [200: .text]),
            Operation(
                method: "GET", path: "\(t)/tenant-ssh-key/ssh.pub", summary: "The tenant's SSH public key", dialect: d, access: .anyone,
                answers: [200: .text]),
            Operation(method: "GET", path: "\(t)/pipelines", summary: "The tenant's pipelines", dialect: d, access: .anyone, answers: [200: list]),
            Operation(method: "GET", path: "\(t)/jobs", summary: "The tenant's jobs", dialect: d, access: .anyone, answers: [200: list]),
            Operation(method: "GET", path: "\(t)/job/{name}", summary: "A job's variants", dialect: d, access: .anyone, answers: [200: list]),
            Operation(
                method: "GET", path: "\(t)/pipeline/**", summary: "A pipeline's frozen job graph (`…/project/…/branch/…/freeze-jobs`)", dialect: d,
                access: .anyone, answers: [200: .json(Schema.any)]),
            Operation(method: "GET", path: "\(t)/state", summary: "The tenant's queue state", dialect: d, access: .anyone, answers: [200: object]),
            Operation(
                method: "POST", path: "\(t)/state", summary: "Pauses or resumes the tenant's queues (admins)", dialect: d,
                body: [
                    (
                        json,
                        Schema.object([
                            "trigger_queue_discarding": Schema.boolean, "trigger_queue_paused": Schema.boolean, "result_queue_paused": Schema.boolean,
                            "reason": Schema.string,
                        ])
                    )
                ], answers: [200: .json(Schema.null)]),
            Operation(
                method: "GET", path: "\(t)/nodes", summary: "The runners the tenant's projects may use", dialect: d, access: .anyone,
                answers: [200: list]),
            Operation(
                method: "PUT", path: "\(t)/nodes/{node}", summary: "Holds a node or lets it run again (admins)", dialect: d,
                body: [(json, Schema.object(["state": Schema.string]))], answers: [201: .json(Schema.null)]),
            Operation(
                method: "GET", path: "\(t)/nodeset-requests", summary: "Waiting node requests (never any)", dialect: d, access: .anyone,
                answers: [200: list]),
            Operation(method: "DELETE", path: "\(t)/nodeset-requests/{id}", summary: "Refused: there are no node requests", dialect: d, answers: [:]),
            Operation(
                method: "GET", path: "\(t)/status", summary: "The running buildsets per pipeline", dialect: d, access: .optionalToken,
                answers: [200: object]),
            Operation(
                method: "GET", path: "\(t)/status/change/{id}", summary: "The running buildsets of a change", dialect: d, access: .optionalToken,
                answers: [200: list]),
            Operation(
                method: "GET", path: "\(t)/tenant-status", summary: "The tenant's name and state", dialect: d, access: .anyone, answers: [200: object]
            ),
            Operation(
                method: "GET", path: "\(t)/authorizations", summary: "The caller's rights in the tenant", dialect: d, access: .optionalToken,
                answers: [200: object]),
            Operation(
                method: "GET", path: "\(t)/build-times", summary: "Finished builds' durations", dialect: d, access: .optionalToken,
                query: buildFilters, answers: [200: list]),
            Operation(method: "GET", path: "\(t)/labels", summary: "The runners' tags", dialect: d, access: .anyone, answers: [200: list]),
            Operation(
                method: "GET", path: "/logs/{tenant}/{build}/**", summary: "A build's log (`job-output.txt`) or inventory", dialect: d,
                access: .optionalToken, answers: [200: .text]),
        ]
        for empty in ["semaphores", "config-errors", "system-events", "images", "flavors", "providers"] {
            operations.append(
                Operation(
                    method: "GET", path: "\(t)/\(empty)", summary: "Always empty: Warden has no \(empty)", dialect: d, access: .anyone,
                    answers: [200: list]))
        }
        return operations
    }
}
