import Foundation
import PackagePlugin

/// Gives the `warden` binary the commit it is built from and the time of the first build of that commit
/// (`warden --version`, `GET /api/version`): scripts/build-stamp.sh writes `BuildStamp.swift` before each build and
/// leaves it untouched while the commit and the version stay the same, so that nothing is rebuilt for it.
@main
struct BuildStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "stamp")
        let script = context.package.directoryURL.appending(path: "scripts/build-stamp.sh")
        return [
            .prebuildCommand(
                displayName: "Stamping warden with its commit", executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.path], outputFilesDirectory: output)
        ]
    }
}
