import ArgumentParser

/// `warden worker …`: work with workers.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run, test and manage workers.",
        subcommands: [
            WorkerRunCommand.self, WorkerInitCommand.self, WorkerDryRunCommand.self, WorkerDeployCommand.self, WorkerListCommand.self,
            WorkerListEventCommand.self, WorkerExecuteCommand.self, WorkerUndeployCommand.self, WorkerHistoryCommand.self,
            WorkerAddSecretCommand.self,
        ])
}
