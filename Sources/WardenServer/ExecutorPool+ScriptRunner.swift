import RunModel
import WardenCore
import WorkerRuntime

/// The core runs workers through `ScriptRunner`; the executor pool is the runtime that answers it. This is the one
/// place the two meet, so that neither the core nor the dialects import the runtime.
extension ExecutorPool: ScriptRunner {}
