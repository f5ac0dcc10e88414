import HubModel

extension WebhookRequest {
    /// The body parsed as JSON straight from its bytes, for providers that sign or authenticate the
    /// raw body: nothing is decoded before the check, and bytes that are not UTF-8 are refused
    /// rather than repaired.
    func jsonBody() throws(JSONReader.Failure) -> JSONValue {
        try body.withUnsafeBufferPointer { bytes in Result { () throws(JSONReader.Failure) in try JSONReader.parse(bytes) } }.get()
    }
}
