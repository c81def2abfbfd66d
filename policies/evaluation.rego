# Evaluation gates: every metric meets its threshold, and none regresses past the tolerance
# against the version now in the target environment.
package governance.deployment

import rego.v1

lower_is_better(metric) if metric in data.policy.evaluation.lower_is_better

# The policy's threshold wins over the one recorded with the evaluation, so a team cannot
# lower its own bar.
threshold(m) := data.policy.evaluation.thresholds[m.metric]

threshold(m) := m.threshold if {
	not data.policy.evaluation.thresholds[m.metric]
	is_number(m.threshold)
}

worse(metric, value, limit) if {
	not lower_is_better(metric)
	value < limit
}

worse(metric, value, limit) if {
	lower_is_better(metric)
	value > limit
}

threshold_violations(inp) := {v |
	some m in inp.model_version.evaluation
	limit := threshold(m)
	worse(m.metric, m.value, limit)
	v := {
		"code": "evaluation.below_threshold",
		"message": sprintf("%s is %v; the threshold is %v.", [m.metric, m.value, limit]),
		"severity": "deny",
		"controls": ["MEASURE 2.3", "MEASURE 2.5"],
	}
}

missing_metric_violations(inp) := {v |
	count(inp.model_version.evaluation) > 0
	some metric in object.keys(data.policy.evaluation.thresholds)
	reported := {m.metric | some m in inp.model_version.evaluation}
	not metric in reported
	v := {
		"code": "evaluation.metric_missing",
		"message": sprintf("The policy requires %s, and the evaluation does not report it.", [metric]),
		"severity": severity_in(inp, data.policy.metadata.enforced_environments),
		"controls": ["MEASURE 2.1", "MEASURE 2.3"],
	}
}

regression_violations(inp) := {v |
	some new in inp.model_version.evaluation
	current := inp.current_version
	some old in current.evaluation
	tolerance := data.policy.evaluation.regression_tolerance
	new.metric == old.metric
	limit := regression_limit(new.metric, old.value, tolerance)
	worse(new.metric, new.value, limit)
	v := {
		"code": "evaluation.regression",
		"message": sprintf(
			"%s regresses from %v (version %s, now in %s) to %v; the tolerance is %v.",
			[new.metric, old.value, current.version, inp.request.environment, new.value, tolerance],
		),
		"severity": "deny",
		"controls": ["MEASURE 2.5", "MEASURE 4.3", "MANAGE 4.2"],
	}
}

regression_limit(metric, old, tolerance) := old + tolerance if lower_is_better(metric)

else := old - tolerance
