# Data classification: the model's training data must be allowed in the target environment.
package governance.deployment

import rego.v1

classification_violations(inp) := {v |
	some ds in inp.model_version.datasets
	not ds.classification in object.get(data.policy.classification, inp.request.environment, [])
	v := {
		"code": "data.classification_not_allowed",
		"message": sprintf(
			"Dataset %s is %s, which is not allowed in %s.",
			[ds.slug, ds.classification, inp.request.environment],
		),
		"severity": "deny",
		"controls": ["MAP 4.1", "MEASURE 2.10"],
	}
}
