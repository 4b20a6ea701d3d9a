import ArgumentParser

/// `warden worker …`: work with workers.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run, test and manage workers.", subcommands: [WorkerRunCommand.self])
}
