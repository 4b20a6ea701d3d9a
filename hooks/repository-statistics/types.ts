// Types of the worker API (spec §4), for editors and type checking. Workers import from './types' (or
// 'jfrog-workers'); Warden drops those imports and provides the status enums as globals at run time.

export interface PlatformHttpResponse<T = any> { status: number; headers: Record<string, string>; data: T }
export interface PlatformHttpClient {
  get<T = any>(path: string, headers?: Record<string, string>): Promise<PlatformHttpResponse<T>>;
  post<T = any>(path: string, data?: any, headers?: Record<string, string>): Promise<PlatformHttpResponse<T>>;
  put<T = any>(path: string, data?: any, headers?: Record<string, string>): Promise<PlatformHttpResponse<T>>;
  patch<T = any>(path: string, data?: any, headers?: Record<string, string>): Promise<PlatformHttpResponse<T>>;
  delete<T = any>(path: string, headers?: Record<string, string>): Promise<PlatformHttpResponse<T>>;
  request<T = any>(method: string, path: string, headers?: Record<string, string>, data?: any): Promise<PlatformHttpResponse<T>>;
}
export interface AxiosLikeConfig { url?: string; method?: string; headers?: Record<string, string>; data?: any }
export interface AxiosLikeClient {
  get<T = any>(url: string, config?: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
  head<T = any>(url: string, config?: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
  delete<T = any>(url: string, config?: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
  post<T = any>(url: string, data?: any, config?: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
  put<T = any>(url: string, data?: any, config?: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
  patch<T = any>(url: string, data?: any, config?: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
  request<T = any>(config: AxiosLikeConfig): Promise<PlatformHttpResponse<T>>;
}
export interface PlatformContext {
  clients: { platformHttp: PlatformHttpClient; axios: AxiosLikeClient };
  secrets: { get(key: string): string | undefined };
  properties: { get(key: string): string | undefined };
  state: {
    get(key: string): string | undefined; set(key: string, value: unknown): void; has(key: string): boolean;
    delete(key: string): boolean; clear(): void; getAll(): Record<string, string>;
  };
  crypto: {
    hash(algorithm: 'sha256' | 'sha384' | 'sha512' | 'sha1' | 'md5', data: string, encoding?: 'hex' | 'base64'): string;
    hmac(algorithm: 'sha256' | 'sha384' | 'sha512' | 'sha1', key: string, data: string, encoding?: 'hex' | 'base64'): string;
    randomBytes(count: number, encoding?: 'hex' | 'base64'): string;
  };
  baseUrl: string;
  platformToken: string;
  wait(milliseconds: number): Promise<void>;
  getRemainingExecutionTime(): number;
}

export enum DownloadStatus { DOWNLOAD_UNSPECIFIED = 0, DOWNLOAD_PROCEED = 1, DOWNLOAD_STOP = 2, DOWNLOAD_WARN = 3, UNRECOGNIZED = -1 }
export enum UploadStatus { UPLOAD_UNSPECIFIED = 0, UPLOAD_PROCEED = 1, UPLOAD_STOP = 2, UPLOAD_WARN = 3, UNRECOGNIZED = -1 }
export enum ActionStatus { UNSPECIFIED = 0, PROCEED = 1, STOP = 2, WARN = 3, UNRECOGNIZED = -1 }
export enum BeforeDeleteStatus { BEFORE_DELETE_UNSPECIFIED = 0, BEFORE_DELETE_PROCEED = 1, BEFORE_DELETE_STOP = 2, BEFORE_DELETE_WARN = 3, UNRECOGNIZED = -1 }
export enum BeforePropertyCreateStatus {
  BEFORE_PROPERTY_CREATE_UNSPECIFIED = 0, BEFORE_PROPERTY_CREATE_PROCEED = 1, BEFORE_PROPERTY_CREATE_STOP = 2, BEFORE_PROPERTY_CREATE_WARN = 3, UNRECOGNIZED = -1,
}
export enum CreateTokenStatus { CREATE_TOKEN_UNSPECIFIED = 0, CREATE_TOKEN_PROCEED = 1, CREATE_TOKEN_STOP = 2, CREATE_TOKEN_WARN = 3, UNRECOGNIZED = -1 }
export enum RevokeTokenStatus { REVOKE_TOKEN_UNSPECIFIED = 0, REVOKE_TOKEN_PROCEED = 1, REVOKE_TOKEN_STOP = 2, REVOKE_TOKEN_WARN = 3, UNRECOGNIZED = -1 }
export enum RepoType { REPO_TYPE_UNSPECIFIED = 0, REPO_TYPE_LOCAL = 1, REPO_TYPE_REMOTE = 2, REPO_TYPE_FEDERATED = 3, UNRECOGNIZED = -1 }
export enum Status { STATUS_UNSPECIFIED = 0, STATUS_FAIL = 2, STATUS_SUCCESS = 4, UNRECOGNIZED = -1 }

export interface RepoPath { key: string; path: string; id: string; isRoot: boolean; isFolder: boolean }
export interface UserContext { id: string; isToken: boolean; realm: string }
export interface Header { value: string[] }
export interface DownloadMetadata {
  repoPath: RepoPath; originalRepoPath?: RepoPath; name: string; headOnly: boolean; checksum: boolean; recursive: boolean;
  modificationTime: number; directoryRequest: boolean; metadata: boolean; lastModified: number; ifModifiedSince: number;
  servletContextUrl: string; uri: string; clientAddress: string; zipResourcePath: string; zipResourceRequest: boolean;
  replaceHeadRequestWithGet: boolean; repoType: RepoType;
}
export interface UploadMetadata {
  repoPath: RepoPath; contentLength: number; lastModified: number; trustServerChecksums: boolean; servletContextUrl: string;
  skipJarIndexing: boolean; disableRedirect: boolean; repoType: RepoType;
}
export interface BeforeDownloadRequest { metadata: DownloadMetadata; headers: Record<string, Header>; userContext: UserContext; repoPath: RepoPath }
export interface BeforeDownloadResponse { status: DownloadStatus; message: string; headers?: Record<string, Header> }
export interface AfterDownloadRequest { metadata: DownloadMetadata; headers: Record<string, Header>; userContext: UserContext }
export interface AfterDownloadResponse { message: string }
export interface BeforeRemoteInfoRequest {
  metadata: { repoPath: RepoPath; repoType: RepoType; servletContextUrl: string }; repoPath: RepoPath; remoteUrl: string;
  headers: Record<string, Header>; userContext: UserContext;
}
export interface BeforeRemoteInfoResponse { status: ActionStatus; message: string; headers?: Record<string, Header> }
export interface BeforeUploadRequest {
  metadata: UploadMetadata; headers: Record<string, Header>; userContext: UserContext; artifactProperties: Record<string, { value: string[] }>;
}
export interface BeforeUploadResponse { status: UploadStatus; message: string; modifiedRepoPath?: RepoPath }
export interface AfterCreateRequest { metadata: UploadMetadata; headers: Record<string, Header>; userContext: UserContext }
export interface AfterCreateResponse { message: string }
export interface ItemInfo { repoPath: RepoPath; name: string; created: number; lastModified: number }
export interface BeforeCreateRequest { metadata: UploadMetadata; itemInfo: ItemInfo; userContext: UserContext }
export interface BeforeCreateResponse { status: ActionStatus; message: string }
export interface DeleteMetadata {
  repoPath: RepoPath; repoType: RepoType; triggerMetadataCalculation: boolean; allowAsyncDelete: boolean; skipTrashcan: boolean;
  isTriggeredByGc: boolean; triggeredByMove: boolean;
}
export interface BeforeDeleteRequest { metadata: DeleteMetadata; userContext: UserContext; itemInfo: ItemInfo }
export interface BeforeDeleteResponse { status: BeforeDeleteStatus; message: string }
export interface AfterDeleteRequest { metadata: DeleteMetadata; userContext: UserContext; itemInfo: ItemInfo }
export interface AfterDeleteResponse { message: string }
export interface BeforeCopyRequest {
  metadata: UploadMetadata; itemInfo: ItemInfo; targetRepoPath: RepoPath; userContext: UserContext;
  properties: Record<string, { value: string[] }>;
}
export interface BeforeCopyResponse { status: ActionStatus; message: string }
export interface AfterCopyRequest { metadata: UploadMetadata; source: ItemInfo; target: ItemInfo; userContext: UserContext }
export interface AfterCopyResponse { message: string }
export interface BeforeMoveRequest {
  metadata: UploadMetadata; itemInfo: ItemInfo; targetRepoPath: RepoPath; userContext: UserContext;
  properties: Record<string, { value: string[] }>;
}
export interface BeforeMoveResponse { status: ActionStatus; message: string }
export interface AfterMoveRequest { metadata: UploadMetadata; source: ItemInfo; target: ItemInfo; userContext: UserContext }
export interface AfterMoveResponse { message: string }
export interface PropertyMetadata { repoPath: RepoPath; repoType: RepoType }
export interface BeforePropertyCreateRequest {
  metadata: PropertyMetadata; userContext: UserContext; itemInfo: ItemInfo; name: string; values: string[];
}
export interface BeforePropertyCreateResponse { status: BeforePropertyCreateStatus; message: string }
export interface AfterPropertyCreateRequest {
  metadata: PropertyMetadata; userContext: UserContext; itemInfo: ItemInfo; name: string; values: string[];
}
export interface AfterPropertyCreateResponse { message: string }
export interface BeforePropertyDeleteRequest { metadata: PropertyMetadata; userContext: UserContext; itemInfo: ItemInfo; name: string }
export interface BeforePropertyDeleteResponse { status: ActionStatus; message: string }
export interface AfterPropertyDeleteRequest { metadata: PropertyMetadata; userContext: UserContext; itemInfo: ItemInfo; name: string }
export interface AfterPropertyDeleteResponse { message: string }
export interface TokenSpec {
  subject: string; owner: string; scope: string[]; audience: string[]; expiresIn: number; refreshable: boolean; extension: string;
  description: string; includeReferenceToken: boolean;
}
export interface BeforeCreateTokenRequest { tokenSpec: TokenSpec; userContext: UserContext }
export interface BeforeCreateTokenResponse { status: CreateTokenStatus; message: string }
export interface TokenInfo { tokenId: string; subject: string; scope: string[]; issuedAt: number; expiry: number; description: string }
export interface BeforeRevokeTokenRequest { token: TokenInfo; userContext: UserContext }
export interface BeforeRevokeTokenResponse { status: RevokeTokenStatus; message: string }
export interface BuildArtifact { type?: string; name: string; path?: string; sha1?: string; sha256?: string; md5?: string }
export interface BuildModule { id: string; artifacts?: BuildArtifact[]; dependencies?: any[] }
export interface BuildInfo {
  name: string; number: string; started: string; durationMillis?: number; principal?: string; url?: string;
  modules?: BuildModule[]; properties?: Record<string, string>; [field: string]: any;
}
export interface AfterBuildInfoSaveRequest { build: BuildInfo; userContext: UserContext }
export interface AfterBuildInfoSaveResponse { message: string }
export interface ScheduledEventRequest { triggerID: string }
export interface ScheduledEventResponse { message: string }
