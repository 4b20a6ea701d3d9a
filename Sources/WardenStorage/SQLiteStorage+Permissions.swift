import Foundation
import GRDB
import WardenCore

extension SQLiteStorage: PermissionStore {

    static func addGroup(_ name: String, _ description: String, _ members: [String], in db: Database) throws {
        try db.execute(sql: "INSERT INTO user_group (name, description, auto_join) VALUES (?, ?, 0)", arguments: [name, description])
        for member in members {
            try db.execute(sql: "INSERT INTO group_member (group_name, user_name) VALUES (?, ?)", arguments: [name, member])
        }
    }

    static func write(_ target: PermissionTarget, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO permission_target (name, repositories, include_patterns, exclude_patterns, users, groups)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                target.name, try json(target.repositories), try json(target.includePatterns), try json(target.excludePatterns),
                try json(StoredForm.Grants(target.users)), try json(StoredForm.Grants(target.groups)),
            ])
    }

    static func target(from row: Row) throws -> PermissionTarget {
        PermissionTarget(
            name: row["name"], repositories: try decode([String].self, row["repositories"]) ?? [],
            includePatterns: try decode([String].self, row["include_patterns"]) ?? [],
            excludePatterns: try decode([String].self, row["exclude_patterns"]) ?? [],
            users: try decode(StoredForm.Grants.self, row["users"])?.map ?? [:], groups: try decode(StoredForm.Grants.self, row["groups"])?.map ?? [:]
        )
    }

    public func permissionTargets() async throws -> [PermissionTarget] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM permission_target ORDER BY name").map(Self.target(from:)) }
    }

    public func savePermissionTarget(_ target: PermissionTarget) async throws -> Bool {
        try await pool.write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM permission_target WHERE name = ?", arguments: [target.name]) ?? false
            try Self.write(target, in: db)
            return !exists
        }
    }

    public func deletePermissionTarget(name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM permission_target WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func userGroups() async throws -> [UserGroup] {
        try await pool.read { db in
            var members: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT group_name, user_name FROM group_member ORDER BY user_name") {
                members[row["group_name"], default: []].append(row["user_name"])
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM user_group ORDER BY name").map { row in
                UserGroup(name: row["name"], description: row["description"], autoJoin: row["auto_join"], members: members[row["name"]] ?? [])
            }
        }
    }

    public func saveUserGroup(_ group: UserGroup) async throws -> Bool {
        try await pool.write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM user_group WHERE name = ?", arguments: [group.name]) ?? false
            if exists {
                try db.execute(
                    sql: "UPDATE user_group SET description = ?, auto_join = ? WHERE name = ?",
                    arguments: [group.description, group.autoJoin, group.name])
                try db.execute(sql: "DELETE FROM group_member WHERE group_name = ?", arguments: [group.name])
            } else {
                try db.execute(
                    sql: "INSERT INTO user_group (name, description, auto_join) VALUES (?, ?, ?)",
                    arguments: [group.name, group.description, group.autoJoin])
            }
            for member in group.members {
                try db.execute(sql: "INSERT INTO group_member (group_name, user_name) VALUES (?, ?)", arguments: [group.name, member])
            }
            return !exists
        }
    }

    public func deleteUserGroup(name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM user_group WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { return false }
            // The grants made to the group go with it, in the same transaction.
            for var target in try Row.fetchAll(db, sql: "SELECT * FROM permission_target").map(Self.target(from:)) where target.groups[name] != nil {
                target.groups[name] = nil
                try Self.write(target, in: db)
            }
            return true
        }
    }

    public func joinAutoJoinGroups(user: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_member (group_name, user_name) SELECT name, ? FROM user_group WHERE auto_join = 1",
                arguments: [user])
        }
    }
}
