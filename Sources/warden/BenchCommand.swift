import ArgumentParser
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measures the worker runtime.", shouldDisplay: false)
    func run() async throws {}
}
