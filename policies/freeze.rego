# Change freeze windows. Times are RFC 3339 UTC ("2026-12-20T00:00:00Z"), which order
# correctly as strings; the product validates that shape when the data is saved.
package governance.deployment

import rego.v1

freeze_violations(inp) := {v |
	some w in data.policy.freeze_windows
	inp.request.environment in w.environments
	inp.now >= w.start
	inp.now < w.end
	v := {
		"code": "freeze.window_active",
		"message": sprintf("%s: no deployments to %s until %s.", [w.name, inp.request.environment, w.end]),
		"severity": "deny",
		"controls": ["GOVERN 1.4", "MANAGE 1.3"],
	}
}
