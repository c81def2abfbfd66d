# Four eyes: the number of approvals the risk tier requires, by people other than the requester.
package governance.deployment

import rego.v1

required_approvals(inp) := data.policy.approvals.required_by_tier[inp.system.risk_tier] if {
	inp.request.environment in data.policy.approvals.environments
}

else := 0

independent_approvers(inp) := {a.approver |
	some a in inp.approvals
	a.decision == "approve"
	a.approver != inp.request.requester
}

approval_violations(inp) := {v |
	count(independent_approvers(inp)) < required_approvals(inp)
	approvers := independent_approvers(inp)
	required := required_approvals(inp)
	v := {
		"code": "approvals.insufficient",
		"message": sprintf(
			"A %s-risk system needs %d approval(s) by someone other than the requester for %s; it has %d.",
			[inp.system.risk_tier, required, inp.request.environment, count(approvers)],
		),
		"severity": "deny",
		"controls": ["GOVERN 2.1", "GOVERN 2.3", "MANAGE 1.1"],
	}
}
