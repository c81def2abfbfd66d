# Control coverage: high and critical systems need their required subcategories implemented.
package governance.deployment

import rego.v1

coverage_violations(inp) := {v |
	inp.system.risk_tier in data.policy.coverage.enforced_tiers
	missing := sort(inp.coverage.missing_required)
	count(missing) > 0
	v := {
		"code": "coverage.required_controls_missing",
		"message": concat("", [
			sprintf("%d required NIST AI RMF subcategories are not implemented, e.g. ", [count(missing)]),
			concat(", ", array.slice(missing, 0, 5)),
			".",
		]),
		"severity": severity_in(inp, data.policy.coverage.environments),
		"controls": array.concat(["GOVERN 1.3", "GOVERN 1.4"], array.slice(missing, 0, 10)),
	}
}
