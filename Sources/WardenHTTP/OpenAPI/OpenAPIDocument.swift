import Foundation
import WardenCore

/// The OpenAPI 3.1 document of Warden's routes, served at `/openapi.json` and kept in `docs/openapi.json` (a test
/// keeps the two equal and checks that every documented operation is a route). schemathesis checks the server
/// against it in `make test`. Each dialect's operations are in its own extension.
enum OpenAPIDocument {
    /// The document as JSON text, keys sorted, so that it can be compared and kept in the repository.
    static func json(version: String) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: document(version: version), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static var operations: [Operation] {
        system + worker + access + artifacts + runnersV4 + agents + candor + tenant
    }

    static func document(version: String) -> Schema.JSON {
        var paths: [String: Schema.JSON] = [:]
        for operation in operations {
            paths[operation.documentPath, default: [:]][operation.method.lowercased()] = operation.rendered()
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Warden", "version": version,
                "description":
                    "Every dialect Warden serves: the worker service, artifacts (storage, AQL, builds), tokens, the runners, agents, Candor and tenant APIs, and the server's own routes. Each dialect refuses in its own shape (see components.schemas).",
            ],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "a Warden token"]],
            ],
        ]
    }

    static var schemas: [String: Schema.JSON] {
        var all = workerSchemas
        all.merge(artifactSchemas) { first, _ in first }
        all["WorkerError"] = Schema.object(
            ["errors": Schema.array(Schema.object(["status": Schema.integer, "message": Schema.string], required: ["status", "message"]))],
            required: ["errors"])
        return all
    }
}

// MARK: The server's own

extension OpenAPIDocument {
    static var systemDialect: Dialect { Dialect(tag: "system", error: Schema.ref("WorkerError"), refusals: [401, 503]) }

    static var system: [Operation] {
        [
            Operation(
                method: "GET", path: "/api/version", summary: "The server's version, commit, build date and JavaScriptCore", dialect: systemDialect,
                answers: [
                    200: .json(
                        Schema.object(
                            ["version": Schema.string, "commit": Schema.string, "buildDate": Schema.string, "javaScriptCore": Schema.string],
                            required: ["version", "commit", "buildDate", "javaScriptCore"]))
                ]),
            Operation(
                method: "GET", path: "/metrics",
                summary: "The server's metrics in Prometheus's text form (open on loopback, a token beyond it: warden.metrics.access)",
                dialect: systemDialect, access: .optionalToken, answers: [200: .text], refusals: [403], never: [503]),
            Operation(
                method: "GET", path: "/openapi.json", summary: "This document", dialect: systemDialect, access: .anyone,
                answers: [200: .json(Schema.object(["openapi": Schema.string, "paths": Schema.object()], required: ["openapi", "paths"]))],
                never: [503]),
        ]
    }
}

// MARK: The worker service

extension OpenAPIDocument {
    static var workerDialect: Dialect { Dialect(tag: "worker", error: Schema.ref("WorkerError")) }

    static var workerSchemas: [String: Schema.JSON] {
        let keyValue = Schema.object(["key": Schema.string, "value": Schema.string], required: ["key"])
        let filter = Schema.object([
            "artifactFilterCriteria": Schema.object([
                "repoKeys": Schema.array(Schema.string), "includePatterns": Schema.array(Schema.string),
                "excludePatterns": Schema.array(Schema.string), "anyLocal": Schema.boolean, "anyRemote": Schema.boolean,
                "anyFederated": Schema.boolean,
            ]),
            "schedule": Schema.object(["cron": Schema.string, "timezone": Schema.string]),
        ])
        let access = Schema.object(["repositories": Schema.array(Schema.string), "actions": Schema.array(Schema.string)])
        let version = Schema.object(["versionNumber": Schema.string, "description": Schema.string, "commitSha": Schema.string])
        return [
            "Worker": Schema.object(
                [
                    "key": Schema.string, "description": Schema.string, "enabled": Schema.boolean, "debug": Schema.boolean,
                    "sourceCode": Schema.string, "action": Schema.string, "filterCriteria": filter,
                    "secrets": Schema.array(Schema.object(["key": Schema.string], required: ["key"])), "properties": Schema.array(keyValue),
                    "shared": Schema.boolean, "projectKey": Schema.string, "platformAccess": access, "version": version,
                    "currentVersion": Schema.object(["modifiedAt": Schema.integer, "modifiedBy": Schema.string]),
                ], required: ["key", "enabled", "sourceCode", "action", "secrets", "properties"]),
            "WorkerInput": Schema.object(
                [
                    "key": Schema.string, "description": Schema.string, "enabled": Schema.boolean, "debug": Schema.boolean,
                    "sourceCode": Schema.string,
                    "action": Schema.anyOf([Schema.string, Schema.object(["application": Schema.string, "name": Schema.string])]),
                    "filterCriteria": filter,
                    "secrets": Schema.nullable(
                        Schema.array(Schema.object(["key": Schema.string, "value": Schema.string, "markedForRemoval": Schema.boolean]))),
                    "properties": Schema.array(keyValue), "shared": Schema.boolean, "projectKey": Schema.string,
                    "platformAccess": Schema.nullable(access), "version": version,
                ]),
            "TestRun": Schema.object(["logs": Schema.string], required: ["logs"]),
            "HistoryEntry": Schema.object(
                [
                    "historyEntryId": Schema.string, "traceId": Schema.string, "workerKey": Schema.string, "workerType": Schema.string,
                    "workerProjectKey": Schema.string, "executionPayload": Schema.any, "executionStatus": Schema.string,
                    "executionResult": Schema.object([
                        "result": Schema.any, "error": Schema.nullable(Schema.object(["type": Schema.string, "message": Schema.string])),
                        "logs": Schema.string, "workerStats": Schema.object(),
                    ]),
                    "startTimeMillis": Schema.integer, "endTimeMillis": Schema.integer, "triggeredBy": Schema.string,
                    "testRun": Schema.boolean, "executedVersion": Schema.string,
                ], required: ["historyEntryId", "traceId", "workerKey", "executionStatus", "startTimeMillis", "endTimeMillis"]),
            "Token": Schema.object(
                [
                    "id": Schema.string, "name": Schema.string, "scope": Schema.string, "createdAt": Schema.integer,
                    "projectKey": Schema.string, "expiresAt": Schema.integer, "token": Schema.string,
                ], required: ["id", "name", "scope", "createdAt"]),
        ]
    }

    static var worker: [Operation] {
        let d = workerDialect
        let ok = Schema.object(["code": Schema.string], required: ["code"])
        let testBody: Schema.JSON = Schema.object([
            "code": Schema.string, "action": Schema.anyOf([Schema.string, Schema.object()]), "data": Schema.any,
            "stagedSecrets": Schema.array(Schema.object(["key": Schema.string, "value": Schema.string])),
        ])
        let json = "application/json"
        return [
            Operation(
                method: "GET", path: "/worker/api/v1/system/liveness", summary: "Liveness", dialect: d, access: .anyone, answers: [200: .json(ok)],
                never: [400, 404, 413, 503]),
            Operation(
                method: "GET", path: "/worker/api/v1/system/readiness", summary: "Readiness: storage and the script engine", dialect: d,
                access: .anyone, answers: [200: .json(ok)], never: [400, 404, 413]),
            Operation(
                method: "GET", path: "/worker/api/v1/system/actions", summary: "The action names", dialect: d,
                answers: [200: .json(Schema.array(Schema.string))]),
            Operation(
                method: "GET", path: "/worker/api/v1/actions", summary: "The action names", dialect: d,
                answers: [200: .json(Schema.array(Schema.string))]),
            Operation(
                method: "GET", path: "/worker/api/v2/actions", summary: "The actions with their sample payloads, code and types", dialect: d,
                answers: [200: .json(Schema.array(Schema.object()))]),
            Operation(
                method: "GET", path: "/worker/api/v1/options", summary: "The edition's limits", dialect: d, answers: [200: .json(Schema.object())]),
            Operation(
                method: "GET", path: "/worker/api/v1/workers", summary: "The workers the caller manages", dialect: d,
                query: [("action", Schema.string), ("keysOnly", Schema.boolean), ("projectKey", Schema.string)],
                answers: [
                    200: .json(
                        Schema.oneOf([
                            Schema.object(["workers": Schema.array(Schema.ref("Worker"))], required: ["workers"], closed: true),
                            Schema.object(["keys": Schema.array(Schema.string)], required: ["keys"], closed: true),
                        ]))
                ]),
            Operation(
                method: "GET", path: "/worker/api/v1/workers/{key}", summary: "One worker (secrets by key only)", dialect: d,
                answers: [200: .json(Schema.ref("Worker"))]),
            Operation(
                method: "DELETE", path: "/worker/api/v1/workers/{key}", summary: "Deletes a worker", dialect: d, answers: [204: .empty]),
            Operation(
                method: "POST", path: "/worker/api/v1/workers", summary: "Creates a worker", dialect: d, body: [(json, Schema.ref("WorkerInput"))],
                bodyRequired: true, answers: [201: .json(Schema.ref("Worker"))], refusals: [409, 429]),
            Operation(
                method: "POST", path: "/worker/api/v2/workers", summary: "Creates a worker (v2 action form)", dialect: d,
                body: [(json, Schema.ref("WorkerInput"))], bodyRequired: true, answers: [201: .json(Schema.ref("Worker"))], refusals: [409, 429]),
            Operation(
                method: "PUT", path: "/worker/api/v1/workers", summary: "Updates a worker (absent fields are kept)", dialect: d,
                body: [(json, Schema.ref("WorkerInput"))], bodyRequired: true, answers: [204: .empty], refusals: [429]),
            Operation(
                method: "PUT", path: "/worker/api/v2/workers", summary: "Updates a worker (v2 action form)", dialect: d,
                body: [(json, Schema.ref("WorkerInput"))], bodyRequired: true, answers: [204: .empty], refusals: [429]),
            Operation(
                method: "POST", path: "/worker/api/v1/test", summary: "Dry-runs code", dialect: d, query: [("debug", Schema.boolean)],
                body: [(json, testBody)], bodyRequired: true, answers: [200: .json(Schema.ref("TestRun"))], refusals: [429]),
            Operation(
                method: "POST", path: "/worker/api/v1/test/{key}", summary: "Dry-runs code as the stored worker", dialect: d,
                query: [("debug", Schema.boolean)], body: [(json, testBody)], bodyRequired: true, answers: [200: .json(Schema.ref("TestRun"))],
                refusals: [429]),
            Operation(
                method: "POST", path: "/worker/api/v2/test/{key}", summary: "Dry-runs code as the stored worker", dialect: d,
                query: [("debug", Schema.boolean)], body: [(json, testBody)], bodyRequired: true, answers: [200: .json(Schema.ref("TestRun"))],
                refusals: [429]),
            Operation(
                method: "POST", path: "/worker/api/v1/execute/{key}", summary: "Runs a GENERIC_EVENT worker", dialect: d, body: [(json, Schema.any)],
                answers: [200: .json(Schema.object(["executionStatus": Schema.string], required: ["executionStatus"]))], refusals: [409, 429]),
            Operation(
                method: "POST", path: "/worker/api/v1/rerun/{key}", summary: "Runs a worker again on a recorded payload", dialect: d,
                query: [("forceRecord", Schema.boolean)], body: [(json, Schema.object(["historyEntryId": Schema.string]))], bodyRequired: true,
                answers: [200: .json(Schema.ref("TestRun"))], refusals: [409, 429]),
            Operation(
                method: "GET", path: "/worker/api/v1/execution_history", summary: "Recorded runs, newest first", dialect: d,
                query: [
                    ("workerKey", Schema.string), ("showTestRun", Schema.boolean), ("projectKey", Schema.string), ("limit", Schema.integer),
                    ("offset", Schema.integer),
                ], answers: [200: .json(Schema.array(Schema.ref("HistoryEntry")))]),
            Operation(
                method: "GET", path: "/worker/api/v1/tokens", summary: "Every token (never a value)", dialect: d,
                answers: [200: .json(Schema.object(["tokens": Schema.array(Schema.ref("Token"))], required: ["tokens"]))]),
            Operation(
                method: "POST", path: "/worker/api/v1/tokens", summary: "Creates a token; its value is shown once", dialect: d,
                body: [
                    (
                        json,
                        Schema.object(
                            [
                                "name": Schema.string, "scope": Schema.string(enum: ["admin", "project-admin", "user"]), "projectKey": Schema.string,
                                "expiresInSeconds": Schema.integer,
                            ], required: ["name"])
                    )
                ], bodyRequired: true, answers: [201: .json(Schema.ref("Token"))], refusals: [409]),
            Operation(
                method: "DELETE", path: "/worker/api/v1/tokens/{id}", summary: "Revokes a token", dialect: d, answers: [204: .empty], refusals: [409]),
        ]
    }
}

// MARK: The Access API

extension OpenAPIDocument {
    static var access: [Operation] {
        let d = Dialect(tag: "access", error: Schema.ref("WorkerError"))
        let token = Schema.object(
            [
                "token_id": Schema.string, "issuer": Schema.string, "subject": Schema.string, "scope": Schema.string, "issued_at": Schema.integer,
                "expiry": Schema.integer, "refreshable": Schema.boolean, "description": Schema.string,
            ], required: ["token_id", "subject", "scope"])
        let fields: Schema.JSON = Schema.object([
            "username": Schema.string, "scope": Schema.string, "project_key": Schema.string, "expires_in": Schema.integer,
            "description": Schema.string, "refreshable": Schema.boolean, "include_reference_token": Schema.boolean, "audience": Schema.string,
            "grant_type": Schema.string,
        ])
        return [
            Operation(
                method: "POST", path: "/access/api/v1/tokens", summary: "Creates a token; its value is shown once", dialect: d,
                body: [("application/json", fields), ("application/x-www-form-urlencoded", fields)],
                answers: [
                    200: .json(
                        Schema.object(
                            [
                                "token_id": Schema.string, "access_token": Schema.string, "scope": Schema.string, "token_type": Schema.string,
                                "expires_in": Schema.integer,
                            ],
                            required: ["token_id", "access_token", "scope", "token_type"]))
                ], refusals: [409, 415]),
            Operation(
                method: "GET", path: "/access/api/v1/tokens", summary: "Every token (never a value)", dialect: d,
                answers: [200: .json(Schema.object(["tokens": Schema.array(token)], required: ["tokens"]))]),
            Operation(method: "GET", path: "/access/api/v1/tokens/{id}", summary: "One token", dialect: d, answers: [200: .json(token)]),
            Operation(
                method: "DELETE", path: "/access/api/v1/tokens/{id}", summary: "Revokes a token", dialect: d, answers: [200: .text], refusals: [409]),
        ]
    }
}

// MARK: Artifacts

extension OpenAPIDocument {
    static var artifactDialect: Dialect { Dialect(tag: "artifactory", error: Schema.ref("WorkerError")) }

    static var artifactSchemas: [String: Schema.JSON] {
        let checksums = Schema.object(["sha1": Schema.string, "md5": Schema.string, "sha256": Schema.string])
        return [
            "Repository": Schema.object(
                [
                    "key": Schema.string, "rclass": Schema.string, "packageType": Schema.string, "description": Schema.string,
                    "anonymousRead": Schema.boolean, "quotaBytes": Schema.nullable(Schema.integer),
                ], required: ["key", "rclass", "packageType"]),
            "RepositoryInput": Schema.object([
                "key": Schema.string, "rclass": Schema.string, "packageType": Schema.string, "description": Schema.string,
                "anonymousRead": Schema.boolean, "quotaBytes": Schema.nullable(Schema.integer), "handleReleases": Schema.boolean,
                "handleSnapshots": Schema.boolean, "url": Schema.string, "retrievalCachePeriodSecs": Schema.integer, "offline": Schema.boolean,
            ]),
            "ItemInfo": Schema.object(
                [
                    "repo": Schema.string, "path": Schema.string, "created": Schema.string, "createdBy": Schema.string,
                    "downloadUri": Schema.string, "mimeType": Schema.string, "size": Schema.anyOf([Schema.string, Schema.integer]),
                    "checksums": checksums, "originalChecksums": checksums, "uri": Schema.string,
                    "children": Schema.array(Schema.object(["uri": Schema.string, "folder": Schema.boolean])),
                ], required: ["repo", "path", "uri"]),
            "PermissionTarget": Schema.object(["name": Schema.string], required: ["name"]),
            "Group": Schema.object(["name": Schema.string], required: ["name"]),
            "Messages": Schema.object(
                ["messages": Schema.array(Schema.object(["level": Schema.string, "message": Schema.string]))], required: ["messages"]),
        ]
    }

    static var artifacts: [Operation] {
        let d = artifactDialect
        let json = "application/json"
        let flag = Schema.boolean
        var operations: [Operation] = [
            Operation(
                method: "GET", path: "/artifactory/api/system/ping", summary: "Ping", dialect: d, access: .anyone, answers: [200: .text],
                never: [400, 404, 413, 503]),
            Operation(
                method: "GET", path: "/artifactory/api/v1/system/readiness", summary: "Readiness", dialect: d, access: .anyone,
                answers: [200: .json(Schema.object(["code": Schema.string], required: ["code"]))], never: [400, 404, 413, 503]),
            Operation(
                method: "GET", path: "/artifactory/api/repositories", summary: "The repositories the caller may read something in", dialect: d,
                access: .optionalToken,
                answers: [200: .json(Schema.array(Schema.object(["key": Schema.string, "type": Schema.string], required: ["key"])))]),
            Operation(
                method: "POST", path: "/artifactory/api/repositories", summary: "Refused: a repository key is needed in the path", dialect: d,
                access: .optionalToken, answers: [:]),
            Operation(
                method: "GET", path: "/artifactory/api/repositories/{key}", summary: "One repository's configuration", dialect: d,
                access: .optionalToken, answers: [200: .json(Schema.ref("Repository"))]),
            Operation(
                method: "PUT", path: "/artifactory/api/repositories/{key}", summary: "Creates a repository", dialect: d, access: .optionalToken,
                body: [(json, Schema.ref("RepositoryInput"))], answers: [200: .text], refusals: [409]),
            Operation(
                method: "POST", path: "/artifactory/api/repositories/{key}", summary: "Updates a repository", dialect: d, access: .optionalToken,
                body: [(json, Schema.ref("RepositoryInput"))], answers: [200: .text], refusals: [409]),
            Operation(
                method: "DELETE", path: "/artifactory/api/repositories/{key}", summary: "Deletes a repository", dialect: d, access: .optionalToken,
                query: [("force", flag)], answers: [200: .text], refusals: [409]),
            Operation(
                method: "GET", path: "/artifactory/api/storageinfo", summary: "Storage figures of the repositories the caller may read", dialect: d,
                access: .optionalToken, answers: [200: .json(Schema.object(["repositoriesSummaryList": Schema.array(Schema.object())]))]),
            Operation(
                method: "POST", path: "/artifactory/api/search/aql", summary: "An AQL items.find query", dialect: d, access: .optionalToken,
                body: [("text/plain", Schema.string)], bodyRequired: true,
                answers: [200: .json(Schema.object(["results": Schema.array(Schema.object()), "range": Schema.object()], required: ["results"]))],
                refusals: [429]),
        ]
        for (plural, item, schema) in [("api/v2/security/permissions", "name", "PermissionTarget"), ("api/security/groups", "name", "Group")] {
            operations += [
                Operation(
                    method: "GET", path: "/artifactory/\(plural)", summary: "Every \(schema)", dialect: d, access: .optionalToken,
                    answers: [200: .json(Schema.array(Schema.object()))]),
                schema == "PermissionTarget"
                    ? Operation(
                        method: "POST", path: "/artifactory/\(plural)", summary: "Creates a permission target", dialect: d, access: .optionalToken,
                        body: [(json, Schema.object())], answers: [201: .empty], refusals: [409])
                    : Operation(
                        method: "POST", path: "/artifactory/\(plural)", summary: "Refused: a name is needed in the path", dialect: d,
                        access: .optionalToken, answers: [:]),
                Operation(
                    method: "GET", path: "/artifactory/\(plural)/{\(item)}", summary: "One \(schema)", dialect: d, access: .optionalToken,
                    answers: [200: .json(Schema.ref(schema))]),
                Operation(
                    method: "PUT", path: "/artifactory/\(plural)/{\(item)}", summary: "Creates or replaces a \(schema)", dialect: d,
                    access: .optionalToken, body: [(json, Schema.object())], answers: [200: .empty, 201: .empty], refusals: [409]),
                Operation(
                    method: "POST", path: "/artifactory/\(plural)/{\(item)}", summary: "Updates a \(schema)", dialect: d, access: .optionalToken,
                    body: [(json, Schema.object())], answers: [200: .empty, 201: .empty], refusals: [409]),
                Operation(
                    method: "DELETE", path: "/artifactory/\(plural)/{\(item)}", summary: "Deletes a \(schema)", dialect: d, access: .optionalToken,
                    answers: [204: .empty]),
            ]
        }
        operations += [
            Operation(
                method: "GET", path: "/artifactory/api/build", summary: "Every build name", dialect: d, access: .optionalToken,
                answers: [200: .json(Schema.object(["builds": Schema.array(Schema.object())], required: ["builds"]))]),
            Operation(
                method: "PUT", path: "/artifactory/api/build", summary: "Publishes build info", dialect: d, access: .optionalToken,
                body: [(json, Schema.object(["name": Schema.string, "number": Schema.string], required: ["name", "number"]))], bodyRequired: true,
                answers: [204: .empty]),
            Operation(
                method: "GET", path: "/artifactory/api/build/{name}", summary: "A build's runs, latest first", dialect: d, access: .optionalToken,
                answers: [200: .json(Schema.object(["buildsNumbers": Schema.array(Schema.object())], required: ["buildsNumbers"]))]),
            Operation(
                method: "DELETE", path: "/artifactory/api/build/{name}", summary: "Deletes runs of a build", dialect: d, access: .optionalToken,
                query: [("buildNumbers", Schema.string), ("deleteAll", flag), ("artifacts", flag)], answers: [200: .text]),
            Operation(
                method: "GET", path: "/artifactory/api/build/{name}/{number}", summary: "One run's build info", dialect: d, access: .optionalToken,
                answers: [200: .json(Schema.object(["buildInfo": Schema.object()], required: ["buildInfo"]))]),
            Operation(
                method: "DELETE", path: "/artifactory/api/build/{name}/{number}", summary: "Deletes one run", dialect: d, access: .optionalToken,
                query: [("artifacts", flag)], answers: [200: .text]),
        ]
        let storageQuery: [(name: String, schema: Schema.JSON)] = [
            ("properties", Schema.string), ("list", Schema.string), ("deep", flag), ("depth", Schema.integer), ("listFolders", flag),
            ("stats", Schema.string), ("recursive", flag),
        ]
        for path in ["/artifactory/api/storage/{repo}", "/artifactory/api/storage/{repo}/**"] {
            operations += [
                Operation(
                    method: "GET", path: path, summary: "An item's information, properties, listing or statistics", dialect: d,
                    access: .optionalToken,
                    query: storageQuery, answers: [200: .json(Schema.object())]),
                Operation(
                    method: "PUT", path: path, summary: "Sets properties", dialect: d, access: .optionalToken, query: storageQuery,
                    answers: [204: .empty], refusals: [409]),
                Operation(
                    method: "DELETE", path: path, summary: "Deletes properties", dialect: d, access: .optionalToken, query: storageQuery,
                    answers: [204: .empty]),
            ]
        }
        for verb in ["copy", "move"] {
            for path in ["/artifactory/api/\(verb)/{repo}", "/artifactory/api/\(verb)/{repo}/**"] {
                operations.append(
                    Operation(
                        method: "POST", path: path, summary: "\(verb.capitalized)s an item (`to=/repo/path`)", dialect: d, access: .optionalToken,
                        query: [("to", Schema.string), ("dry", flag), ("suppressLayouts", flag), ("failFast", flag)],
                        answers: [200: .json(Schema.ref("Messages"))], refusals: [409]))
            }
        }
        for method in ["GET", "HEAD", "PUT", "POST", "DELETE"] {
            operations.append(
                Operation(
                    method: method, path: "/artifactory/api/**", summary: "No such API: any other path under /artifactory/api", dialect: d,
                    access: .anyone, answers: [:], never: [400, 413, 503]))
        }
        let conditional: [(name: String, schema: Schema.JSON)] = [
            ("Range", Schema.string), ("If-None-Match", Schema.string), ("If-Modified-Since", Schema.string),
        ]
        let checksums: [(name: String, schema: Schema.JSON)] = [
            ("X-Checksum-Sha256", Schema.string), ("X-Checksum-Sha1", Schema.string), ("X-Checksum-Md5", Schema.string),
        ]
        for path in ["/artifactory/{repo}", "/artifactory/{repo}/**"] {
            operations += [
                Operation(
                    method: "GET", path: path, summary: "Downloads a file (a folder: its HTML listing)", dialect: d, access: .optionalToken,
                    headers: conditional, answers: [200: .bytes, 206: .bytes, 304: .empty], refusals: [416, 502]),
                Operation(
                    method: "HEAD", path: path, summary: "A file's headers", dialect: d, access: .optionalToken, headers: conditional,
                    answers: [200: .empty, 304: .empty, 400: .empty, 401: .empty, 403: .empty, 404: .empty, 416: .empty, 502: .empty, 503: .empty]),
                Operation(
                    method: "PUT", path: path, summary: "Deploys a file (a trailing `/`: a folder); matrix parameters become properties", dialect: d,
                    access: .optionalToken, headers: checksums,
                    body: [("application/octet-stream", ["type": "string", "contentMediaType": "application/octet-stream"])],
                    answers: [201: .json(Schema.ref("ItemInfo"))], refusals: [409]),
                Operation(
                    method: "POST", path: path, summary: "Refused: POST is not an operation on an artifact", dialect: d, access: .optionalToken,
                    answers: [:]),
                Operation(
                    method: "DELETE", path: path, summary: "Deletes a file or a folder with everything in it", dialect: d, access: .optionalToken,
                    answers: [204: .empty], refusals: [409]),
            ]
        }
        return operations
    }
}
