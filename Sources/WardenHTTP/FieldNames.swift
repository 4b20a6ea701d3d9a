import HTTPTypes

extension HTTPField.Name {
    /// The header names the dialects read and write beyond HTTPTypes' own; each is a valid field name, checked once.
    static let xJFrogArtApi = known("X-JFrog-Art-Api")
    static let xForwardedFor = known("X-Forwarded-For")
    static let xChecksumSha256 = known("X-Checksum-Sha256")
    static let xChecksumSha1 = known("X-Checksum-Sha1")
    static let xChecksumMd5 = known("X-Checksum-Md5")
    static let xArtifactoryFilename = known("X-Artifactory-Filename")
    static let privateToken = known("PRIVATE-TOKEN")
    static let link = known("Link")
    static let xRequestID = known("X-Request-Id")

    /// A name written in this code (never one from a request): not being a field name is a bug found at once.
    static func known(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("'\(name)' is not an HTTP field name") }
        return field
    }
}
