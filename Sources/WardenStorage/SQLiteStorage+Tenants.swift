import Foundation
import GRDB
import WardenCore

// MARK: Tenants: their state, autohold requests, project and tenant keys; runs get a uuid and their event

extension SQLiteStorage: TenantStore {

    public func tenantState(id: Int64) async throws -> TenantState {
        try await pool.read { db in
            try Self.decode(TenantState.self, try String.fetchOne(db, sql: "SELECT state FROM ci_tenant WHERE id = ?", arguments: [id]))
                ?? TenantState()
        }
    }

    public func setTenantState(_ state: TenantState, id: Int64) async throws {
        let text = try Self.json(state)
        try await pool.write { db in try db.execute(sql: "UPDATE ci_tenant SET state = ? WHERE id = ?", arguments: [text, id]) }
    }

    public func updateTenantState(id: Int64, _ change: @escaping @Sendable (inout TenantState) -> Void) async throws -> TenantState {
        try await pool.write { db in
            var state =
                try Self.decode(TenantState.self, try String.fetchOne(db, sql: "SELECT state FROM ci_tenant WHERE id = ?", arguments: [id]))
                ?? TenantState()
            change(&state)
            try db.execute(sql: "UPDATE ci_tenant SET state = ? WHERE id = ?", arguments: [try Self.json(state), id])
            return state
        }
    }

    static func autohold(from row: Row) throws -> Autohold {
        Autohold(
            id: row["id"], tenantID: row["tenant_id"], projectID: row["project_id"], job: row["job"], refFilter: row["ref_filter"],
            maxCount: row["max_count"], currentCount: row["current_count"], reason: row["reason"], nodeExpiration: row["node_expiration"],
            nodes: try decode([Autohold.HeldNodes].self, row["nodes"]) ?? [], createdAt: row["created_at"])
    }

    public func createAutohold(_ request: Autohold) async throws -> Autohold {
        let nodes = try Self.json(request.nodes)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ci_autohold (tenant_id, project_id, job, ref_filter, max_count, current_count, reason, node_expiration, nodes,
                        created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    request.tenantID, request.projectID, request.job, request.refFilter, request.maxCount, request.currentCount, request.reason,
                    request.nodeExpiration, nodes, request.createdAt,
                ])
            var created = request
            created.id = db.lastInsertedRowID
            return created
        }
    }

    public func autoholds(tenantID: Int64) async throws -> [Autohold] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ci_autohold WHERE tenant_id = ? ORDER BY id", arguments: [tenantID]).map(Self.autohold(from:))
        }
    }

    public func deleteAutohold(id: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM ci_autohold WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func recordHold(id: Int64, _ held: Autohold.HeldNodes) async throws -> Autohold? {
        try await pool.write { db in
            guard var request = try Row.fetchOne(db, sql: "SELECT * FROM ci_autohold WHERE id = ?", arguments: [id]).map(Self.autohold(from:)),
                !request.isDone
            else { return nil }
            request.currentCount += 1
            request.nodes.append(held)
            try db.execute(
                sql: "UPDATE ci_autohold SET current_count = ?, nodes = ? WHERE id = ?",
                arguments: [request.currentCount, try Self.json(request.nodes), id])
            return request
        }
    }

    public func sealedKey(owner: String, make: @Sendable () throws -> Data) async throws -> Data {
        if let existing = try await pool.read({ db in
            try Data.fetchOne(db, sql: "SELECT sealed_value FROM ci_key WHERE owner = ?", arguments: [owner])
        }) {
            return existing
        }
        let made = try make()
        return try await pool.write { db in
            // Two first askers race: the first key written wins and both get it.
            try db.execute(sql: "INSERT INTO ci_key (owner, sealed_value) VALUES (?, ?) ON CONFLICT (owner) DO NOTHING", arguments: [owner, made])
            return try Data.fetchOne(db, sql: "SELECT sealed_value FROM ci_key WHERE owner = ?", arguments: [owner]) ?? made
        }
    }
}
