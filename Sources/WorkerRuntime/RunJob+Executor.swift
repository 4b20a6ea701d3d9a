import RunModel

// What the pool derives from a job: the name of the warm context that serves it, and the context's JSON.

extension RunJob {
    var contextKey: String { workerKey + "#" + module.sourceHash }

    var infoJSON: String {
        "{\"secrets\":\(JSONText.object(secrets)),\"properties\":\(JSONText.object(properties)),\"state\":\(JSONText.object(state)),"
            + "\"baseUrl\":\(JSONText.quote(baseURL)),\"answer\":\(readsAnswer)}"
    }
}
