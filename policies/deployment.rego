# The deployment gate: may this model version go to this environment now?
#
# Every check is a function of the input document that returns a set of violations
# {code, message, severity ("deny" or "warn"), controls: [NIST AI RMF subcategory ids]}.
# Functions (rather than rules reading `input`) keep the checks testable without `with`,
# which the embedded engine supports only partly. The decision allows the deployment when
# no violation has severity "deny". Thresholds, allowlists and windows come from data.policy,
# edited in the UI.
package governance.deployment

import rego.v1

decision := evaluate(input)

evaluate(inp) := {
	"allow": count([v | some v in found; v.severity == "deny"]) == 0,
	"violations": [v | some v in found],
} if {
	found := union({
		lifecycle_violations(inp),
		metadata_violations(inp),
		lineage_violations(inp),
		threshold_violations(inp),
		missing_metric_violations(inp),
		regression_violations(inp),
		approval_violations(inp),
		coverage_violations(inp),
		framework_violations(inp),
		provider_violations(inp),
		artifact_violations(inp),
		artifact_finding_violations(inp),
		classification_violations(inp),
		ai_act_violations(inp),
		freeze_violations(inp),
		kill_switch_violations(inp),
	})
}

# Deny in the environments where a check is enforced, warn in the others.
severity_in(inp, enforced) := "deny" if inp.request.environment in enforced

else := "warn"

lifecycle_violations(inp) := {v |
	some check in [
		{
			"applies": inp.system.archived,
			"code": "system.archived",
			"message": sprintf("AI system %s is archived; archived systems are not deployed.", [inp.system.slug]),
			"controls": ["GOVERN 1.6", "GOVERN 1.7"],
		},
		{
			"applies": inp.model_version.archived,
			"code": "model_version.archived",
			"message": sprintf("Model version %s is archived.", [inp.model_version.version]),
			"controls": ["GOVERN 1.6"],
		},
	]
	check.applies == true
	v := {"code": check.code, "message": check.message, "severity": "deny", "controls": check.controls}
}
