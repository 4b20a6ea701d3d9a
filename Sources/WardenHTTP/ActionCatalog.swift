import WardenCore

/// Action metadata of `GET /worker/api/v2/actions` (spec §4): samples and TypeScript declarations we write.
enum ActionCatalog {
    static func metadata(_ action: WorkerAction) -> [String: Any] {
        var object: [String: Any] = [
            "action": ["application": action.application, "name": action.name], "description": action.description,
            "samplePayload": samplePayload(action), "sampleCode": sampleCode(action), "typesDefinitions": WorkerTypes.declarations,
            "supportProjects": true, "mandatoryFilter": action.filter != nil, "async": !action.isSynchronous,
            "executionRequestType": action.requestType, "wikiUrl": "/docs/worker-context.md",
        ]
        if let filter = action.filter { object["filterType"] = filter.rawValue }
        return object
    }

    static func samplePayload(_ action: WorkerAction) -> String { Payloads.sample(for: action) }

    static func sampleCode(_ action: WorkerAction) -> String {
        let request = action.requestType == "any" ? "any" : action.requestType
        let body: String
        switch action {
        case .beforeDownload: body = "  return { status: DownloadStatus.DOWNLOAD_PROCEED, message: 'Proceed' };"
        case .beforeUpload: body = "  return { status: UploadStatus.UPLOAD_PROCEED, message: 'Proceed', modifiedRepoPath: data.metadata.repoPath };"
        case .beforeDelete: body = "  return { status: BeforeDeleteStatus.BEFORE_DELETE_PROCEED, message: 'Proceed' };"
        case .beforePropertyCreate: body = "  return { status: BeforePropertyCreateStatus.BEFORE_PROPERTY_CREATE_PROCEED, message: 'Proceed' };"
        case .beforeCreateToken: body = "  return { status: CreateTokenStatus.CREATE_TOKEN_PROCEED, message: 'Proceed' };"
        case .beforeRevokeToken: body = "  return { status: RevokeTokenStatus.REVOKE_TOKEN_PROCEED, message: 'Proceed' };"
        case .genericEvent: body = "  return { message: 'hello', received: data };"
        default:
            body = action.isSynchronous ? "  return { status: ActionStatus.PROCEED, message: 'Proceed' };" : "  return { message: 'done' };"
        }
        return """
            import { PlatformContext } from 'jfrog-workers';

            export default async (context: PlatformContext, data: \(request)) => {
              console.log('\(action.name) worker called');
            \(body)
            };
            """
    }
}
