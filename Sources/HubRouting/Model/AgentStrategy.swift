/// How a queue picks among eligible free agents. The tier (and, before it, the step that admits
/// the agent) always comes first; the strategy orders agents within a tier; the agent id breaks
/// the remaining ties so that runs replay exactly.
public enum AgentStrategy: String, Sendable, Hashable, CaseIterable, Codable {
    /// The agent who has gone longest without being given or finishing work (FreeSWITCH
    /// `longest-idle-agent`, Twilio's default); logging in or coming back from a break counts as
    /// fresh, so an agent back from lunch does not jump the line.
    case longestIdle
    /// The largest spare share of capacity on the task's medium, then longest since last
    /// assignment (Salesforce, Zendesk).
    case mostAvailable
    /// The fewest open tasks right now, all media counted, then longest since last assignment
    /// (the current load, not Rocket.Chat's cumulative counter).
    case leastActive
    /// Longest since last assignment on this medium.
    case roundRobin
    /// The fewest tasks handled since login, then position (FreeSWITCH `agent-with-fewest-calls`).
    case fewestHandled
    /// The least handle time since login, then position.
    case leastTalkTime
    /// Hunt by position, continuing after the position last offered for this task (FreeSWITCH
    /// `top-down`).
    case topDown
    /// Hunt by position from the top every time (Asterisk `linear`).
    case linear
    /// The highest sum of levels in the skills the task asks for, then longest idle (Genesys
    /// best available skills).
    case bestSkill
    /// The most loaded agent that still has room: packs chats and mails onto few agents and keeps
    /// others whole for calls (OpenSIPS `full-load`).
    case fullLoad
    /// A random order, from the router's seeded generator (replayable).
    case random
    /// Offer to every eligible free agent of the best step and tier at once; the first to accept
    /// takes it, the others are rescinded (voice hunt groups).
    case ringAll
    /// Offer to the best agent, then add the next one every `progressiveInterval` while the
    /// earlier ones keep ringing (FreeSWITCH `ring-progressively`).
    case progressive

    /// Whether offers go to several agents at once by nature.
    var isParallel: Bool { self == .ringAll || self == .progressive }
}
