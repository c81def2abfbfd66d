# The model version's minimum metadata contract, and the lineage of its datasets.
package governance.deployment

import rego.v1

metadata_violations(inp) := {v |
	count(inp.model_version.missing_metadata) > 0
	missing := sort(inp.model_version.missing_metadata)
	v := {
		"code": "metadata.incomplete",
		"message": concat("", ["Model version ", inp.model_version.version, " lacks ", concat(", ", missing), "."]),
		"severity": severity_in(inp, data.policy.metadata.enforced_environments),
		"controls": ["MAP 2.3", "MEASURE 2.1", "MEASURE 2.9"],
	}
}

lineage_violations(inp) := {v |
	some ds in inp.model_version.datasets
	ds.lineage_uri == ""
	v := {
		"code": "dataset.lineage_missing",
		"message": sprintf("Dataset %s has no provenance / lineage link.", [ds.slug]),
		"severity": severity_in(inp, data.policy.metadata.enforced_environments),
		"controls": ["MAP 4.1", "MEASURE 2.1"],
	}
}
