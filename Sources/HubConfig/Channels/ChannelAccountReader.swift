import HubModel

/// Reads one `channels/*.yaml` file into a `ChannelAccountConfig`.
enum ChannelAccountReader {
    static let keys = [
        "kind", "id", "name", "enabled", "queue", "priority", "defaultRegion", "identityScope", "secrets", "options", "delivery",
    ]

    static func read(
        _ root: ConfigNode, schemas: [ChannelKind: ChannelKindSchema], environment: [String: String]
    ) -> ChannelAccountConfig? {
        guard let mapping = root.mapping(allowedKeys: keys) else { return nil }
        let id = mapping.required("id").flatMap(readID)
        let kind: ChannelKind? = mapping.required("kind").flatMap { node in
            guard let text = node.oneOf(ChannelKind.allCases.map(\.rawValue), what: "channel kind") else { return nil }
            let kind = ChannelKind(rawValue: text)!
            guard schemas[kind] != nil else {
                let supported = ChannelKind.allCases.filter { schemas[$0] != nil }.map(\.rawValue)
                node.error("channel kind '\(text)' is not supported by this build yet (supported: \(supported.joined(separator: ", ")))")
                return nil
            }
            return kind
        }
        let name = mapping["name"]?.nonEmptyString
        let enabled = mapping["enabled"]?.bool ?? true
        let queueID = mapping["queue"]?.nonEmptyString
        let priority = mapping["priority"]?.int(in: -1000...1000) ?? 0
        let defaultRegion: String? = mapping["defaultRegion"].flatMap { node in
            guard let code = node.string else { return nil }
            guard let region = PhoneRegion.named(code) else {
                node.error("unknown region '\(code)' (expected an ISO 3166 code with a phone numbering plan, such as CN, US, GB)")
                return nil
            }
            return region.code
        }
        let identityScope = mapping["identityScope"]?.nonEmptyString

        var secrets: [String: Secret] = [:]
        var missing: [String] = []
        let schema = kind.flatMap { schemas[$0] }
        if let schema {
            let secretNames = schema.requiredSecrets + schema.optionalSecrets
            let block = mapping["secrets"]?.mapping(allowedKeys: secretNames)
            for entry in block?.entries ?? [] {
                guard let variable = entry.value.string else { continue }
                guard SecretVariableName.isValid(variable) else {
                    entry.value.error(
                        "secrets are given by environment variable name (such as ACME_SMS_AUTH_TOKEN), never inline; '\(variable.prefix(3))…' is not a variable name")
                    continue
                }
                if let value = environment[variable], !value.isEmpty {
                    secrets[entry.key] = Secret(variable: variable, value: value)
                } else if schema.requiredSecrets.contains(entry.key) {
                    entry.value.warning("environment variable \(variable) is not set: the account stays inactive until it is")
                    missing.append("\(entry.key) (set \(variable))")
                }
            }
            for name in schema.requiredSecrets where block?[name] == nil {
                (mapping["secrets"] ?? root).error("missing required secret '\(name)' (give the environment variable that holds it)")
            }
        }

        let options = schema.flatMap { schema in
            let optionsNode = mapping["options"]
            return schema.readOptions(optionsNode?.mapping(allowedKeys: nil), root)
        }
        let delivery = mapping["delivery"].map(readDelivery) ?? DeliveryPolicy()

        guard let id, let kind, let options, !root.document.hasErrors else { return nil }
        return ChannelAccountConfig(
            id: id, kind: kind, name: name ?? id, enabled: enabled, queueID: queueID, priority: priority,
            defaultRegion: defaultRegion, identityScope: identityScope, secrets: secrets, missingSecrets: missing,
            options: options, delivery: delivery, location: root.location)
    }

    static func readID(_ node: ConfigNode) -> String? {
        guard let id = node.nonEmptyString else { return nil }
        let valid =
            id.count <= 64 && id.first.map { $0.isASCII && ($0.isLowercase || $0.isNumber) } == true
            && id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
        guard valid else {
            node.error("'\(id)' is not a valid id (lower-case letters, digits, '-' and '_', at most 64, starting with a letter or digit)")
            return nil
        }
        return id
    }

    static func readDelivery(_ node: ConfigNode) -> DeliveryPolicy {
        var policy = DeliveryPolicy()
        guard
            let mapping = node.mapping(allowedKeys: ["maxAttempts", "initialBackoff", "maxBackoff", "attemptTimeout", "ordered", "ratePerSecond", "burst"])
        else {
            return policy
        }
        if let value = mapping["maxAttempts"]?.int(in: 1...100) { policy.maxAttempts = value }
        if let value = mapping["initialBackoff"]?.duration { policy.initialBackoff = value }
        if let value = mapping["maxBackoff"]?.duration { policy.maxBackoff = value }
        if let value = mapping["attemptTimeout"]?.duration { policy.attemptTimeout = value }
        if let value = mapping["ordered"]?.bool { policy.ordered = value }
        if let node = mapping["ratePerSecond"], let text = node.string {
            if let rate = Double(text), rate > 0, rate <= 10_000 {
                policy.ratePerSecond = rate
            } else {
                node.error("ratePerSecond must be a number above 0 and at most 10000, such as 1 or 0.5, not '\(text)'")
            }
        }
        if let burst = mapping["burst"]?.int(in: 1...10_000) { policy.burst = burst }
        if policy.maxBackoff < policy.initialBackoff {
            mapping.owner.error("maxBackoff (\(ConfigDuration.format(policy.maxBackoff))) is shorter than initialBackoff (\(ConfigDuration.format(policy.initialBackoff)))")
        }
        if policy.attemptTimeout <= .zero { mapping.owner.error("attemptTimeout must be positive") }
        return policy
    }
}
