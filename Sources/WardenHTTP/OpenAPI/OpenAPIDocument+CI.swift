// The CI dialects of the OpenAPI document: the runners API v4, the agents API and Candor's dashboard and triggers.
extension OpenAPIDocument {
    static var v4Dialect: Dialect {
        Dialect(
            tag: "runners-v4",
            error: Schema.object([
                "message": Schema.anyOf([Schema.string, Schema.map(Schema.array(Schema.string))]), "error": Schema.string,
            ]), refusals: [400, 401, 403, 404, 413, 503])
    }

    static var runnersV4: [Operation] {
        let d = v4Dialect
        let form = "application/x-www-form-urlencoded"
        let json = "application/json"
        let runnerFields = Schema.object([
            "token": Schema.string, "description": Schema.string, "info": Schema.object(), "active": Schema.boolean, "paused": Schema.boolean,
            "locked": Schema.boolean, "run_untagged": Schema.boolean, "tag_list": Schema.anyOf([Schema.string, Schema.array(Schema.string)]),
            "access_level": Schema.string, "maximum_timeout": Schema.integer, "maintenance_note": Schema.string,
        ])
        let body: [(type: String, schema: Schema.JSON)] = [(json, runnerFields), (form, runnerFields)]
        let runner = Schema.object(["id": Schema.integer], required: ["id"])
        let token = Schema.object(["token": Schema.string, "token_expires_at": Schema.nullable(Schema.string)], required: ["token"])
        let listFilters: [(name: String, schema: Schema.JSON)] = [
            ("type", Schema.string), ("status", Schema.string), ("paused", Schema.boolean), ("tag_list", Schema.string), ("scope", Schema.string),
            ("page", Schema.integer), ("per_page", Schema.integer),
        ]
        let named = Schema.object(["name": Schema.string, "path": Schema.string, "namespace_id": Schema.integer, "tenant": Schema.string])
        return [
            Operation(
                method: "GET", path: "/api/v4/user", summary: "The caller as a GitLab user", dialect: d,
                answers: [200: .json(Schema.object(["id": Schema.integer, "username": Schema.string], required: ["id", "username"]))]),
            Operation(
                method: "POST", path: "/api/v4/runners", summary: "Registers a runner with a registration token", dialect: d, access: .anyone,
                body: body, answers: [201: .json(Schema.object(["id": Schema.integer, "token": Schema.string], required: ["id", "token"]))],
                refusals: [401, 403]),
            Operation(
                method: "POST", path: "/api/v4/runners/verify", summary: "A runner checks its authentication token", dialect: d, access: .anyone,
                body: [
                    (json, Schema.object(["token": Schema.string, "url": Schema.string, "control_token": Schema.string])), (form, Schema.object()),
                ],
                answers: [200: .json(Schema.object(["id": Schema.integer, "token": Schema.string], required: ["id"]))], refusals: [401, 403]),
            Operation(
                method: "DELETE", path: "/api/v4/runners", summary: "A runner unregisters itself", dialect: d, access: .anyone,
                query: [("token", Schema.string)], body: [(json, Schema.object(["token": Schema.string])), (form, Schema.object())],
                answers: [204: .empty], refusals: [401, 403]),
            Operation(
                method: "POST", path: "/api/v4/runners/reset_registration_token", summary: "A new instance registration token", dialect: d,
                answers: [201: .json(token)]),
            Operation(
                method: "GET", path: "/api/v4/runners", summary: "The caller's runners", dialect: d, query: listFilters,
                answers: [200: .json(Schema.array(runner))]),
            Operation(
                method: "GET", path: "/api/v4/runners/all", summary: "Every runner (admins)", dialect: d, query: listFilters,
                answers: [200: .json(Schema.array(runner))]),
            Operation(method: "GET", path: "/api/v4/runners/{id}", summary: "A runner's details", dialect: d, answers: [200: .json(runner)]),
            Operation(
                method: "PUT", path: "/api/v4/runners/{id}", summary: "Changes the fields sent", dialect: d, body: body, answers: [200: .json(runner)]
            ),
            Operation(method: "DELETE", path: "/api/v4/runners/{id}", summary: "Deletes a runner", dialect: d, answers: [204: .empty]),
            Operation(
                method: "GET", path: "/api/v4/runners/{id}/jobs", summary: "The jobs a runner ran", dialect: d,
                query: [
                    ("status", Schema.string), ("order_by", Schema.string), ("sort", Schema.string), ("page", Schema.integer),
                    ("per_page", Schema.integer),
                ],
                answers: [200: .json(Schema.array(Schema.object()))]),
            Operation(
                method: "POST", path: "/api/v4/projects", summary: "Creates a project (admins)", dialect: d, body: [(json, named), (form, named)],
                answers: [201: .json(Schema.object(["id": Schema.integer], required: ["id"]))], refusals: [409]),
            Operation(
                method: "GET", path: "/api/v4/projects/{project}", summary: "A project by id or URL-encoded path", dialect: d,
                answers: [200: .json(Schema.object(["id": Schema.integer], required: ["id"]))]),
            Operation(
                method: "GET", path: "/api/v4/projects/{project}/runners", summary: "A project's runners", dialect: d, query: listFilters,
                answers: [200: .json(Schema.array(runner))]),
            Operation(
                method: "POST", path: "/api/v4/projects/{project}/runners", summary: "Enables a project runner on this project", dialect: d,
                body: [(json, Schema.object(["runner_id": Schema.integer])), (form, Schema.object())], answers: [201: .json(runner)]),
            Operation(
                method: "DELETE", path: "/api/v4/projects/{project}/runners/{id}", summary: "Disables a runner on this project", dialect: d,
                answers: [204: .empty]),
            Operation(
                method: "POST", path: "/api/v4/projects/{project}/runners/reset_registration_token", summary: "A new project registration token",
                dialect: d, answers: [201: .json(token)]),
            Operation(
                method: "POST", path: "/api/v4/groups", summary: "Creates a group (admins)", dialect: d, body: [(json, named), (form, named)],
                answers: [201: .json(Schema.object(["id": Schema.integer], required: ["id"]))], refusals: [409]),
            Operation(
                method: "GET", path: "/api/v4/groups/{group}", summary: "A group by id or path", dialect: d,
                answers: [200: .json(Schema.object(["id": Schema.integer], required: ["id"]))]),
            Operation(
                method: "GET", path: "/api/v4/groups/{group}/runners", summary: "A group's runners", dialect: d, query: listFilters,
                answers: [200: .json(Schema.array(runner))]),
            Operation(
                method: "POST", path: "/api/v4/groups/{group}/runners/reset_registration_token", summary: "A new group registration token",
                dialect: d, answers: [201: .json(token)]),
        ]
    }

    static var agents: [Operation] {
        let d = Dialect(
            tag: "agents",
            error: Schema.object(["status": Schema.integer, "error": Schema.string, "message": Schema.string], required: ["status", "message"]))
        let agent = Schema.object(["id": Schema.string], required: ["id"])
        let page = Schema.object(["_embedded": Schema.object(), "page": Schema.object()], required: ["page"])
        var operations: [Operation] = []
        for owner in ["/project/{owner}/{project}/runners", "/company/{company}/runners"] {
            operations += [
                Operation(
                    method: "GET", path: owner, summary: "The owner's agents, a page", dialect: d,
                    query: [("page", Schema.integer), ("size", Schema.integer)], answers: [200: .json(page)]),
                Operation(
                    method: "GET", path: "\(owner)/registration-info", summary: "The owner's registration token", dialect: d,
                    answers: [200: .json(Schema.object(["registrationToken": Schema.string], required: ["registrationToken"]))]),
                Operation(
                    method: "GET", path: "\(owner)/all/jobs", summary: "The jobs of the owner's agents, a page", dialect: d,
                    query: [("jobStatus", Schema.string), ("page", Schema.integer), ("size", Schema.integer)], answers: [200: .json(page)]),
                Operation(method: "GET", path: "\(owner)/{uuid}", summary: "One agent", dialect: d, answers: [200: .json(agent)]),
                Operation(method: "DELETE", path: "\(owner)/{uuid}", summary: "Deletes an agent", dialect: d, answers: [200: .empty]),
                Operation(
                    method: "GET", path: "\(owner)/{uuid}/jobs", summary: "An agent's jobs, a page", dialect: d,
                    query: [("jobStatus", Schema.string), ("page", Schema.integer), ("size", Schema.integer)], answers: [200: .json(page)]),
                Operation(method: "POST", path: "\(owner)/{uuid}/shutdown", summary: "Deactivates an agent", dialect: d, answers: [200: .empty]),
                Operation(
                    method: "POST", path: "\(owner)/{uuid}/edit", summary: "Changes the fields sent", dialect: d,
                    body: [
                        (
                            "application/json",
                            Schema.object([
                                "name": Schema.string, "description": Schema.string, "isActive": Schema.boolean, "maxTimeoutInSec": Schema.integer,
                                "tags": Schema.array(Schema.string), "runUntagged": Schema.boolean, "isLocked": Schema.boolean,
                                "isProtected": Schema.boolean,
                            ])
                        )
                    ], answers: [200: .json(agent)]),
            ]
        }
        return operations
    }

    static var candor: [Operation] {
        let d = Dialect(tag: "candor", error: Schema.string, refusals: [400, 401, 403, 404, 413, 503], textErrors: true)
        let user = Schema.object(["id": Schema.integer, "name": Schema.string], required: ["id", "name"])
        let json = "application/json"
        let credentials = Schema.object(["username": Schema.string, "password": Schema.string])
        return [
            Operation(
                method: "POST", path: "/api/users", summary: "Creates a dashboard user (admins)", dialect: d, body: [(json, credentials)],
                bodyRequired: true, answers: [201: .json(user)], refusals: [409]),
            Operation(
                method: "POST", path: "/login", summary: "Opens a dashboard session (a cookie)", dialect: d, access: .anyone,
                body: [(json, credentials)], bodyRequired: true, answers: [200: .json(user)], refusals: [401, 429]),
            Operation(method: "POST", path: "/logout", summary: "Ends the session", dialect: d, access: .anyone, answers: [200: .empty]),
            Operation(
                method: "GET", path: "/me", summary: "The session's user", dialect: d, access: .anyone, answers: [200: .json(user)], refusals: [401]),
            Operation(
                method: "POST", path: "/api/pipelines", summary: "Creates a pipeline (admins); its trigger token is shown once", dialect: d,
                body: [(json, Schema.object(["project": Schema.any, "name": Schema.string, "plan": Schema.object()]))], bodyRequired: true,
                answers: [201: .json(Schema.object(["id": Schema.integer], required: ["id"]))], refusals: [409]),
            Operation(
                method: "GET", path: "/api/pipelines", summary: "The pipelines the caller may read", dialect: d, access: .optionalToken,
                answers: [200: .json(Schema.array(Schema.object()))]),
            Operation(
                method: "GET", path: "/api/pipelines/{id}", summary: "A pipeline with its runs", dialect: d, access: .optionalToken,
                answers: [200: .json(Schema.object())]),
            Operation(
                method: "POST", path: "/trigger/{token}", summary: "Starts a run (the trigger token is the credential)", dialect: d, access: .anyone,
                body: [(json, Schema.any)], answers: [200: .json(Schema.object(["runId": Schema.any], required: ["runId"])), 204: .empty]),
            Operation(
                method: "GET", path: "/api/runs/{pipeline}/{run}/log", summary: "A run's log", dialect: d, access: .optionalToken,
                answers: [200: .text]),
            Operation(
                method: "GET", path: "/api/runs/{pipeline}/{run}/archive", summary: "A file the run archived", dialect: d, access: .optionalToken,
                query: [("file", Schema.string), ("mode", Schema.string(enum: ["stream", "file"]))], answers: [200: .bytes], refusals: [416]),
            Operation(
                method: "GET", path: "/api/runs/{pipeline}/{run}/archived", summary: "A file the run archived", dialect: d, access: .optionalToken,
                query: [("file", Schema.string), ("mode", Schema.string(enum: ["stream", "file"]))], answers: [200: .bytes], refusals: [416]),
        ]
    }
}
