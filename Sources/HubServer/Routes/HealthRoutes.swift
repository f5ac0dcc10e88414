import HubEngine
import HubModel
import HubStore
import Hummingbird

/// `/healthz` (the process answers) and `/readyz` (it takes traffic: started, not stopping, and
/// its database answers).
enum HealthRoutes {
    struct Status: Encodable {
        var status: String
        var checks: [String: String]?
    }

    static func add(to router: Router<HubRequestContext>, engine: Engine, readiness: Readiness) {
        router.get("healthz") { _, _ in JSONResponse.make(.ok, Status(status: "ok")) }
        router.get("readyz") { _, _ in
            var checks: [String: String] = ["phase": readiness.current.rawValue]
            do {
                _ = try await engine.store.lastEventSequence()
                checks["database"] = "ok"
            } catch {
                checks["database"] = "\(error)"
            }
            let ready = readiness.current == .ready && checks["database"] == "ok"
            return JSONResponse.make(ready ? .ok : .serviceUnavailable, Status(status: ready ? "ready" : "not ready", checks: checks))
        }
    }
}
