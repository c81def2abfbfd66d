# Allowed frameworks, providers and artifact formats. Pickled artifacts can run arbitrary code
# when loaded: refused where the environment's allowlist leaves them out, unless an exception
# is recorded for that exact version ("system@version" in data.policy.exceptions.pickle).
package governance.deployment

import rego.v1

framework_violations(inp) := {v |
	not inp.model_version.framework in data.policy.allowed.frameworks
	v := {
		"code": "supply_chain.framework_not_allowed",
		"message": sprintf("Framework %s is not on the allowlist.", [inp.model_version.framework]),
		"severity": "deny",
		"controls": ["GOVERN 6.1", "MAP 4.2"],
	}
}

provider_violations(inp) := {v |
	some check in [
		{
			"applies": provider_off_list(inp),
			"code": "supply_chain.provider_not_allowed",
			"message": sprintf("Model provider %s is not on the allowlist.", [inp.model_version.provider]),
		},
		{
			"applies": provider_unnamed(inp),
			"code": "supply_chain.provider_unknown",
			"message": "A hosted model must name its provider (parameters.provider).",
		},
	]
	check.applies == true
	v := {"code": check.code, "message": check.message, "severity": "deny", "controls": ["GOVERN 6.1", "MANAGE 3.1"]}
}

provider_off_list(inp) if {
	inp.model_version.provider != ""
	not inp.model_version.provider in data.policy.allowed.providers
}

else := false

provider_unnamed(inp) if {
	inp.model_version.framework == "llm-provider"
	inp.model_version.provider == ""
}

else := false

has_pickle_exception(inp) if {
	concat("@", [inp.system.slug, inp.model_version.version]) in data.policy.exceptions.pickle
}

artifact_violations(inp) := {v |
	not inp.model_version.artifact_format in object.get(data.policy.allowed.artifact_formats, inp.request.environment, [])
	not has_pickle_exception(inp)
	v := {
		"code": "supply_chain.artifact_format_not_allowed",
		"message": sprintf(
			"Artifact format %s is not allowed in %s.",
			[inp.model_version.artifact_format, inp.request.environment],
		),
		"severity": "deny",
		"controls": ["MEASURE 2.7", "MAP 4.2"],
	}
} | {v |
	inp.model_version.artifact_format == "pickle"
	has_pickle_exception(inp)
	v := {
		"code": "supply_chain.pickle_exception",
		"message": concat("", [
			"Pickled artifact allowed by a recorded exception for ",
			inp.system.slug, "@", inp.model_version.version, ".",
		]),
		"severity": "warn",
		"controls": ["MEASURE 2.7"],
	}
}

# What the artifact inspector found in the files themselves (model_version.artifact.findings):
# a pickle that imports os, subprocess, eval... or a Keras Lambda layer runs its author's code
# when loaded. Denied where data.policy.artifacts.enforced_environments says (production as
# shipped), a warning elsewhere. Versions registered by hand carry no findings.
artifact_finding_checks := {
	"pickle.dangerous_global": {
		"code": "supply_chain.dangerous_pickle_global",
		"controls": ["MEASURE 2.7", "MANAGE 3.1", "GOVERN 6.1"],
	},
	"keras.lambda_layer": {
		"code": "supply_chain.keras_lambda_layer",
		"controls": ["MEASURE 2.7", "MANAGE 3.1"],
	},
}

artifact_finding_violations(inp) := {v |
	some finding in object.get(inp.model_version, ["artifact", "findings"], [])
	check := artifact_finding_checks[finding.code]
	v := {
		"code": check.code,
		"message": concat("", [finding.message, where(finding)]),
		"severity": severity_in(inp, object.get(data.policy, ["artifacts", "enforced_environments"], ["production"])),
		"controls": check.controls,
	}
}

where(finding) := concat("", [" (", finding.location, ")"]) if {
	object.get(finding, "location", "") != ""
}

else := ""
