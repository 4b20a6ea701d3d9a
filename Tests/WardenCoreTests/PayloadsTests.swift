import Foundation
import Testing

@testable import WardenCore

/// Event payloads are written by hand as UTF-8 bytes (issue 13): whatever a name, header or path holds, the text
/// is JSON that reads back as what was put in, with credentials masked.
@Suite("Event payloads")
struct PayloadsTests {
    @Test func aDownloadPayloadReadsBackAsWhatWasPutIn() throws {
        let item = ArtifactItem(
            repo: "libs", path: "a b/\"q\"\\€\u{2028}.jar", isFolder: false, createdAt: 1, modifiedAt: 1_700_000_000_123, updatedAt: 1,
            createdBy: "u", modifiedBy: "u")
        let request = ArtifactRequest(
            principal: nil, headers: [("X-Note", "tab\there \u{01}"), ("Authorization", "Bearer secret"), ("X-Note", "two")],
            clientAddress: "127.0.0.1")
        let address = ServerAddress("http://h:1")
        let text = Payloads.download(item: item, headOnly: true, request: request, address: address, withRepoPath: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "\"q\"\\€\u{2028}.jar")
        #expect(metadata["headOnly"] as? Bool == true)
        #expect((metadata["modificationTime"] as? NSNumber)?.int64Value == 1_700_000_000_123)
        #expect((metadata["repoPath"] as? [String: Any])?["path"] as? String == item.path)
        #expect(metadata["uri"] as? String == "/artifactory/libs/\(item.path)")
        let headers = try #require(object["headers"] as? [String: [String: [String]]])
        #expect(headers["X-Note"]?["value"] == ["tab\there \u{01}", "two"])
        #expect(headers["Authorization"]?["value"] == ["***"])
        #expect(!text.contains("secret"))
        #expect((object["userContext"] as? [String: Any])?["id"] as? String == "anonymous")
        #expect((object["repoPath"] as? [String: Any])?["key"] as? String == "libs")
        // A caller is named as the platform names users: jfac@<service id>/users/<name>.
        var named = request
        named.principal = Principal(name: "admin", scope: .admin)
        let user = try #require(
            try JSONSerialization.jsonObject(
                with: Data(Payloads.download(item: item, headOnly: true, request: named, address: address, withRepoPath: true).utf8))
                as? [String: Any])
        let context = try #require(user["userContext"] as? [String: Any])
        #expect(context["id"] as? String == "jfac@\(address.serviceID)/users/admin")
        #expect(context["isToken"] as? Bool == true && context["realm"] as? String == "token")
        #expect(address.serviceID.count == 26 && address.serviceID.hasPrefix("01"))
    }
}
