import Foundation
import HubModel
import HubStore
import HubTestSupport
import Logging
import Testing

@testable import HubServer

/// The B2BUA's call records are saved off the signalling path, in the order the call made them.
@Suite struct CallRecorderTests {
    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// A migrated store in `directory` with the conversation of one call (SIP Call-ID `callID`).
    static func storeWithCall(_ callID: String, in directory: TemporaryDirectory) async throws -> (SQLiteStore, IngestReceipt) {
        let store = try SQLiteStore(configuration: .init(path: directory.url.appendingPathComponent("hub.sqlite").path, durability: .normal))
        try await store.migrate()
        let event = InboundEvent(
            channelKind: .voice, channelAccountID: "trunk", sender: InboundSender(kind: .phone, address: "+8613800138000"),
            providerMessageID: "sip:\(callID)", text: "Incoming call to +861088886666", threadKey: "call:\(callID)")
        let receipt = try await store.ingest([
            IngestCommand(
                event: event, sender: HandleAddress(kind: .phone, scope: "", address: "+8613800138000"), receivedAt: Date(), queueID: "support")
        ])[0].get()
        return (store, receipt)
    }

    @Test("queued changes are saved in order, a missing record costs only itself, and the conversation closes with its call's end")
    func savesInOrder() async throws {
        let directory = try TemporaryDirectory("call-recorder")
        defer { directory.remove() }
        let (store, receipt) = try await Self.storeWithCall("c1", in: directory)
        let recorder = CallRecorder(store: store, logger: Self.logger)
        let running = Task { await recorder.run() }

        let started = Date(timeIntervalSince1970: 1_800_000_000)
        var call = CallRecord(
            id: .generate(at: started), conversationID: receipt.conversationID, direction: .inbound, from: "+8613800138000",
            to: "+861088886666", state: .queued, sipCallID: "c1", startedAt: started, queuedAt: started)
        recorder.enqueue(CallRecordChange(call, isNew: true, actor: .channel("trunk")))
        // A change of a record that was never created (lost, say): left out, the rest goes on.
        let stray = CallRecord(
            id: .generate(at: started), conversationID: receipt.conversationID, direction: .inbound, from: "+8613800138001",
            to: "+861088886666", state: .answered, sipCallID: "c2", startedAt: started)
        recorder.enqueue(CallRecordChange(stray, isNew: false, actor: .channel("trunk")))
        call.state = .offered
        call.offeredAt = started.addingTimeInterval(2)
        call.agentID = "bo"
        recorder.enqueue(CallRecordChange(call, isNew: false, actor: .channel("trunk")))
        call.state = .ended
        call.endedAt = started.addingTimeInterval(5)
        call.hangupCause = "cancelled"
        call.hungUpBy = .customer
        recorder.enqueue(CallRecordChange(call, isNew: false, actor: .channel("trunk"), closesConversation: true))
        recorder.finish()
        await running.value

        #expect(try await store.calls(in: receipt.conversationID) == [call])
        #expect(try await store.call(stray.id) == nil)
        let conversation = try await store.conversation(receipt.conversationID)
        #expect(conversation?.status == .closed && conversation?.closedAt == call.endedAt)
        let events = try await store.events(after: 0, limit: 1_000)
        let followed: Set<EventKind> = [.callCreated, .callUpdated, .conversationUpdated]
        let kinds: [EventKind] = events.map(\.kind).filter { followed.contains($0) }
        #expect(kinds == [.callCreated, .callUpdated, .callUpdated, .conversationUpdated])
        // The end and the close in one commit: nothing of another transaction between them.
        let ended = try #require(events.last { $0.kind == .callUpdated })
        #expect(events.last?.kind == .conversationUpdated && events.last?.sequence == ended.sequence + 1)
        #expect(events.filter { $0.kind == .callUpdated }.map { $0.payload["state"]?.stringValue } == ["offered", "ended"])
    }

    @Test("a change after a quiet spell is saved at once; changes soon after a save gather until the pacing has passed, or the recorder finishes")
    func pacing() async throws {
        let directory = try TemporaryDirectory("call-recorder-pacing")
        defer { directory.remove() }
        let (store, receipt) = try await Self.storeWithCall("p1", in: directory)
        let recorder = CallRecorder(store: store, pacing: .seconds(3600), logger: Self.logger)
        let running = Task { await recorder.run() }

        let started = Date(timeIntervalSince1970: 1_800_000_000)
        var call = CallRecord(
            id: .generate(at: started), conversationID: receipt.conversationID, direction: .inbound, from: "+8613800138000",
            to: "+861088886666", state: .queued, sipCallID: "p1", startedAt: started, queuedAt: started)
        recorder.enqueue(CallRecordChange(call, isNew: true, actor: .channel("trunk")))
        let deadline = ContinuousClock.now + .seconds(30)
        while try await store.call(call.id) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await store.call(call.id)?.state == .queued)

        call.state = .offered
        call.offeredAt = started.addingTimeInterval(2)
        recorder.enqueue(CallRecordChange(call, isNew: false, actor: .channel("trunk")))
        call.state = .answered
        call.answeredAt = started.addingTimeInterval(3)
        recorder.enqueue(CallRecordChange(call, isNew: false, actor: .channel("trunk")))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await store.call(call.id)?.state == .queued)  // within the pacing: gathering

        recorder.finish()
        await running.value
        #expect(try await store.call(call.id) == call)
        // Both changes in one transaction: their events are next to each other.
        let updates = try await store.events(after: 0, limit: 1_000).filter { $0.kind == .callUpdated }.map(\.sequence)
        #expect(updates.count == 2 && updates[1] == updates[0] + 1)
    }

    @Test("at start, the records of calls the last run left live end, by the system, and their conversations close; ended ones stay")
    func endsUnfinishedCalls() async throws {
        let directory = try TemporaryDirectory("call-recorder-restart")
        defer { directory.remove() }
        let store = try SQLiteStore(configuration: .init(path: directory.url.appendingPathComponent("hub.sqlite").path, durability: .normal))
        try await store.migrate()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let started = Date(timeIntervalSince1970: 1_800_000_000)
        var calls: [CallRecord] = []
        for (index, state) in [CallState.queued, .answered, .ended, .offered].enumerated() {
            let event = InboundEvent(
                channelKind: .voice, channelAccountID: "trunk", sender: InboundSender(kind: .phone, address: "+861380013800\(index)"),
                providerMessageID: "sip:c\(index)", text: "Incoming call to +861088886666", threadKey: "call:c\(index)")
            var call = CallRecord(
                id: .generate(at: started), conversationID: Conversation.ID(""), direction: .inbound, from: "+861380013800\(index)",
                to: "+861088886666", state: .queued, sipCallID: "c\(index)", startedAt: started.addingTimeInterval(Double(index)), queuedAt: started)
            var command = IngestCommand(
                event: event, sender: HandleAddress(kind: .phone, scope: "", address: "+861380013800\(index)"), receivedAt: started, queueID: "support")
            command.call = call
            let receipt = try await store.ingest([command])[0].get()
            call.conversationID = receipt.conversationID
            call.state = state
            if state == .answered {
                // Answered "after" the restart: the clock went back meanwhile.
                call.agentID = "bo"
                call.offeredAt = started.addingTimeInterval(5)
                call.answeredAt = started.addingTimeInterval(7_200)
            }
            if state == .ended {
                call.endedAt = started.addingTimeInterval(30)
                call.hangupCause = "normal"
                call.hungUpBy = .customer
            }
            _ = try await store.saveCalls([CallRecordChange(call, isNew: false, actor: .channel("trunk"), closesConversation: state == .ended)])
            calls.append(call)
        }
        #expect(try await store.unfinishedCalls(limit: 10).map(\.sipCallID) == ["c0", "c1", "c3"], "oldest first, the ended one left out")
        #expect(try await store.unfinishedCalls(limit: 2).map(\.sipCallID) == ["c0", "c1"])

        let now = started.addingTimeInterval(3_600)
        #expect(try await CallRecorder.endUnfinishedCalls(store: store, at: now, logger: logger) == 3)
        #expect(try await store.unfinishedCalls(limit: 10).isEmpty)
        for call in calls {
            let stored = try #require(try await store.call(call.id))
            let conversation = try #require(try await store.conversation(call.conversationID))
            #expect(stored.state == .ended && conversation.status == .closed)
            if call.state == .ended {
                #expect(stored == call, "an ended call is left as it was")
            } else {
                #expect(stored.hangupCause == CallRecorder.restartCause && stored.hungUpBy == .system)
                #expect(stored.answeredAt == call.answeredAt && stored.agentID == call.agentID && stored.offeredAt == call.offeredAt)
                // Never before the call's own steps: the restart's time, or its latest step's.
                #expect(stored.endedAt == (call.state == .answered ? call.answeredAt : now))
            }
        }
        #expect(try await CallRecorder.endUnfinishedCalls(store: store, at: now, logger: logger) == 0, "nothing left the second time")
    }
}
