# An engaged kill switch for the system refuses deployment.
package governance.deployment

import rego.v1

kill_switch_violations(inp) := {v |
	some ks in inp.kill_switches
	v := {
		"code": "kill_switch.engaged",
		"message": sprintf("Kill switch %s is engaged: %s", [ks.key, ks.reason]),
		"severity": "deny",
		"controls": ["MANAGE 2.4", "MANAGE 4.1"],
	}
}
