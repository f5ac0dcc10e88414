import Foundation

/// Durations as written in configuration: `250ms`, `30s`, `5m`, `4h`, `2d`, combinations such as
/// `1h30m`, or a bare number of seconds.
public enum ConfigDuration {
    /// Parses a duration; nil when the text is not one.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        var total: Duration = .zero
        var digits = ""
        var unit = ""
        var sawComponent = false
        func flush() -> Bool {
            guard let value = Int(digits), value >= 0 else { return false }
            switch unit {
            case "ms": total += .milliseconds(value)
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3600)
            case "d": total += .seconds(value * 86400)
            default: return false
            }
            digits = ""
            unit = ""
            sawComponent = true
            return true
        }
        for character in trimmed {
            if character.isASCII, character.isNumber {
                if !unit.isEmpty { guard flush() else { return nil } }
                digits.append(character)
            } else if character.isASCII, character.isLetter {
                guard !digits.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !digits.isEmpty, !unit.isEmpty, flush(), sawComponent else { return nil }
        return total
    }

    /// The shortest text that parses back to `duration` ("90s" → "1m30s").
    public static func format(_ duration: Duration) -> String {
        var milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] where milliseconds >= size {
            text += "\(milliseconds / size)\(unit)"
            milliseconds %= size
        }
        return text
    }
}
