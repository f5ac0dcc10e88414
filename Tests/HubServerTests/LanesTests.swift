import HubRouting
import Testing

@testable import HubServer

@Suite("Lanes: one key's items in order, one at a time")
struct LanesTests {
    @Test("the first item of a key starts its lane; the next wait behind it in order; a finished lane starts again")
    func order() {
        var lanes = Lanes<Int>()
        var started: [Bool] = []
        for (item, key) in [(1, "a"), (10, "b"), (2, "a"), (3, "a")] { started.append(lanes.admit(item, key: key)) }
        #expect(started == [true, true, false, false])
        #expect(lanes.count == 2 && lanes.backlog == 2)
        #expect(lanes.isRunning("a") && lanes.isRunning("b") && !lanes.isRunning("c"))
        let lastOfB = lanes.next("b")
        #expect(lastOfB == nil && !lanes.isRunning("b"))
        var taken = [lanes.next("a")]
        let fourth = lanes.admit(4, key: "a")
        #expect(!fourth)
        taken += [lanes.next("a"), lanes.next("a")]
        #expect(taken == [2, 3, 4] && lanes.backlog == 0)
        let end = lanes.next("a")
        #expect(end == nil && lanes.count == 0)
        let again = lanes.admit(5, key: "a")
        #expect(again)
    }

    @Test("the B2BUA's lanes of decisions are by task: an offer's end, the assignment and the task's end of one call share one")
    func decisionKeys() {
        #expect(SIPService.task(of: .offerEnded(offerID: "o1", taskID: "cnv_1", agentID: "alice", reason: .expired)) == "cnv_1")
        #expect(SIPService.task(of: .assigned(taskID: "cnv_1", agentID: "alice", offerID: "o1")) == "cnv_1")
        #expect(SIPService.task(of: .taskEnded(taskID: "cnv_1", reason: .timeToLive)) == "cnv_1")
        // An offer's end and an assignment are handled in the router's order when no lane of their
        // call runs; an offer and a task's end (which may wait for the store) take lanes.
        #expect(SIPService.isTeardown(.offerEnded(offerID: "o1", taskID: "cnv_1", agentID: "alice", reason: .expired)))
        #expect(SIPService.isTeardown(.assigned(taskID: "cnv_1", agentID: "alice", offerID: "o1")))
        #expect(!SIPService.isTeardown(.taskEnded(taskID: "cnv_1", reason: .timeToLive)))
        // Decisions the B2BUA does not act on take no lane.
        #expect(SIPService.task(of: .queued(taskID: "cnv_1", queue: "support", resumed: false, estimatedWait: nil)) == nil)
        #expect(SIPService.task(of: .wrapUpEnded(agentID: "alice", taskID: "cnv_1")) == nil)
    }
}
