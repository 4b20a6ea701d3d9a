import Foundation
import GRDB
import WardenCore

extension SQLiteStorage: PermissionStore {
    /// Permission targets, groups and their members; a repository's quota; a worker's owner and declared access.
    ///
    /// Before this migration any token could read, annotate, write and delete in every repository. An existing
    /// server keeps that: its non-admin token names join a group `pre-permissions-users`, and a target
    /// `pre-permissions` grants that group those four actions on every repository. Workers stored before have no
    /// owner; their run tokens keep what they had (see `StoredWorker.runRights`). A fresh database gets neither.
    static func permissionsMigration(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE permission_target (
                    name TEXT PRIMARY KEY NOT NULL,
                    repositories TEXT NOT NULL,
                    include_patterns TEXT NOT NULL,
                    exclude_patterns TEXT NOT NULL,
                    users TEXT NOT NULL,
                    groups TEXT NOT NULL
                );
                CREATE TABLE user_group (
                    name TEXT PRIMARY KEY NOT NULL,
                    description TEXT NOT NULL,
                    auto_join INTEGER NOT NULL
                );
                CREATE TABLE group_member (
                    group_name TEXT NOT NULL REFERENCES user_group(name) ON DELETE CASCADE,
                    user_name TEXT NOT NULL,
                    PRIMARY KEY (group_name, user_name)
                );
                ALTER TABLE repository ADD COLUMN quota_bytes INTEGER;
                ALTER TABLE worker ADD COLUMN owner TEXT;
                ALTER TABLE worker ADD COLUMN owner_admin INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE worker ADD COLUMN platform_access TEXT;
                ALTER TABLE ci_pipeline ADD COLUMN readers TEXT NOT NULL DEFAULT '[]';
                """)
        let tokens = try String.fetchAll(db, sql: "SELECT DISTINCT name FROM token WHERE scope != 'admin' ORDER BY name")
        let people = try String.fetchAll(db, sql: "SELECT username FROM ci_user ORDER BY username")
        if !tokens.isEmpty {
            try addGroup(
                "pre-permissions-users", "the tokens that existed before permission targets: they keep what they could do then", tokens, in: db)
            let migrated = PermissionTarget(
                name: "pre-permissions", repositories: [PermissionTarget.anyRepository],
                groups: ["pre-permissions-users": [.read, .annotate, .write, .delete]])
            try write(migrated, in: db)
        }
        if !people.isEmpty {
            try addGroup(
                "pre-permissions-dashboard-users", "the dashboard users that existed before pipeline readers: they keep what they could read",
                people, in: db)
        }
        // Every token read every pipeline; every dashboard user read the pipelines without assignees.
        for row in try Row.fetchAll(db, sql: "SELECT id, assignees FROM ci_pipeline") {
            let assignees = try decode([String].self, row["assignees"]) ?? []
            var readers: [String] = []
            if !tokens.isEmpty { readers.append("pre-permissions-users") }
            if !people.isEmpty && assignees.isEmpty { readers.append("pre-permissions-dashboard-users") }
            let id: Int64 = row["id"]
            try db.execute(sql: "UPDATE ci_pipeline SET readers = ? WHERE id = ?", arguments: [try json(readers), id])
        }
    }

    static func addGroup(_ name: String, _ description: String, _ members: [String], in db: Database) throws {
        try db.execute(sql: "INSERT INTO user_group (name, description, auto_join) VALUES (?, ?, 0)", arguments: [name, description])
        for member in members {
            try db.execute(sql: "INSERT INTO group_member (group_name, user_name) VALUES (?, ?)", arguments: [name, member])
        }
    }

    struct Grants: Codable {
        var grants: [String: [String]]

        init(_ map: [String: Set<RepositoryAction>]) { grants = map.mapValues { $0.sorted().map(\.rawValue) } }
        var map: [String: Set<RepositoryAction>] {
            grants.mapValues { Set($0.compactMap(RepositoryAction.init(rawValue:))) }
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
                try json(Grants(target.users)), try json(Grants(target.groups)),
            ])
    }

    static func target(from row: Row) throws -> PermissionTarget {
        PermissionTarget(
            name: row["name"], repositories: try decode([String].self, row["repositories"]) ?? [],
            includePatterns: try decode([String].self, row["include_patterns"]) ?? [],
            excludePatterns: try decode([String].self, row["exclude_patterns"]) ?? [],
            users: try decode(Grants.self, row["users"])?.map ?? [:], groups: try decode(Grants.self, row["groups"])?.map ?? [:])
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
