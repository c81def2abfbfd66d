# Unit tests for the deployment gate, run by `manage.py policy_test` (and so by `make test`).
# The checks are functions of the input document, so each test calls deployment.evaluate with
# its own input instead of `with input as` (which the embedded engine supports only partly).
# Checks that depend on other policy data (exceptions, policy thresholds) are covered by the
# Python tests, which create policy versions with that data.
package governance.deployment_test

import rego.v1

import data.governance.deployment

# A request that passes every rule; each test changes one thing.
good := {
	"request": {"environment": "production", "requester": "alice"},
	"system": {"slug": "churn", "risk_tier": "medium", "archived": false},
	"model_version": {
		"version": "2.0",
		"framework": "sklearn",
		"provider": "",
		"artifact_format": "onnx",
		"missing_metadata": [],
		"datasets": [{"slug": "crm", "classification": "internal", "lineage_uri": "https://lineage.example/crm"}],
		"evaluation": [{"metric": "auc", "value": 0.91, "threshold": 0.8}],
		"archived": false,
	},
	"current_version": {"version": "1.0", "evaluation": [{"metric": "auc", "value": 0.9}]},
	"approvals": [{"approver": "bob", "decision": "approve"}],
	"coverage": {"missing_required": []},
	"kill_switches": [],
	"now": "2026-11-23T12:00:00Z",
}

has_code(inp, code) if {
	some v in deployment.evaluate(inp).violations
	v.code == code
}

allowed(inp) if deployment.evaluate(inp).allow

with_version(changes) := object.union(good, {"model_version": object.union(good.model_version, changes)})

test_good_request_is_allowed if {
	allowed(good)
	count(deployment.evaluate(good).violations) == 0
}

test_incomplete_metadata_denied_in_production if {
	inp := with_version({"missing_metadata": ["code_commit_sha"]})
	not allowed(inp)
	has_code(inp, "metadata.incomplete")
}

test_incomplete_metadata_only_warns_in_development if {
	inp := object.union(with_version({"missing_metadata": ["parameters"]}), {"request": {"environment": "development", "requester": "alice"}})
	allowed(inp)
	has_code(inp, "metadata.incomplete")
}

test_dataset_without_lineage_denied if {
	inp := with_version({"datasets": [{"slug": "crm", "classification": "internal", "lineage_uri": ""}]})
	has_code(inp, "dataset.lineage_missing")
}

test_metric_below_its_threshold_denied if {
	inp := with_version({"evaluation": [{"metric": "auc", "value": 0.7, "threshold": 0.8}]})
	has_code(inp, "evaluation.below_threshold")
}

test_lower_is_better_metric_above_threshold_denied if {
	inp := with_version({"evaluation": [{"metric": "error_rate", "value": 0.2, "threshold": 0.1}]})
	has_code(inp, "evaluation.below_threshold")
}

test_regression_past_tolerance_denied if {
	inp := with_version({"evaluation": [{"metric": "auc", "value": 0.85, "threshold": 0.8}]})
	has_code(inp, "evaluation.regression")
}

test_regression_within_tolerance_allowed if {
	inp := with_version({"evaluation": [{"metric": "auc", "value": 0.89, "threshold": 0.8}]})
	not has_code(inp, "evaluation.regression")
}

test_self_approval_does_not_count if {
	inp := object.union(good, {"approvals": [{"approver": "alice", "decision": "approve"}]})
	has_code(inp, "approvals.insufficient")
}

test_high_risk_needs_two_approvals if {
	inp := object.union(good, {"system": {"slug": "churn", "risk_tier": "high", "archived": false}})
	has_code(inp, "approvals.insufficient")
}

test_no_approvals_needed_outside_production if {
	inp := object.union(good, {"approvals": [], "request": {"environment": "staging", "requester": "alice"}})
	not has_code(inp, "approvals.insufficient")
}

test_high_risk_system_with_missing_controls_denied if {
	inp := object.union(good, {
		"system": {"slug": "churn", "risk_tier": "high", "archived": false},
		"coverage": {"missing_required": ["MAP 1.1", "GOVERN 1.1"]},
	})
	has_code(inp, "coverage.required_controls_missing")
}

test_medium_risk_system_is_not_held_to_coverage if {
	inp := object.union(good, {"coverage": {"missing_required": ["MAP 1.1"]}})
	not has_code(inp, "coverage.required_controls_missing")
}

test_pickle_refused_in_production if {
	inp := with_version({"artifact_format": "pickle"})
	has_code(inp, "supply_chain.artifact_format_not_allowed")
}

test_unknown_provider_denied if {
	inp := with_version({"framework": "llm-provider", "provider": "acme-llm", "artifact_format": "provider-hosted"})
	has_code(inp, "supply_chain.provider_not_allowed")
}

test_framework_off_the_allowlist_denied if {
	inp := with_version({"framework": "other"})
	has_code(inp, "supply_chain.framework_not_allowed")
}

test_restricted_data_refused_in_development if {
	inp := object.union(
		with_version({"datasets": [{"slug": "crm", "classification": "restricted", "lineage_uri": "x"}]}),
		{"request": {"environment": "development", "requester": "alice"}},
	)
	has_code(inp, "data.classification_not_allowed")
}

test_freeze_window_blocks_production if {
	inp := object.union(good, {"now": "2026-12-24T10:00:00Z"})
	has_code(inp, "freeze.window_active")
}

test_freeze_window_ends_on_time if {
	inp := object.union(good, {"now": "2027-01-04T00:00:00Z"})
	not has_code(inp, "freeze.window_active")
}

test_engaged_kill_switch_refuses_deployment if {
	inp := object.union(good, {"kill_switches": [{"key": "churn-off", "reason": "PII leak"}]})
	not allowed(inp)
	has_code(inp, "kill_switch.engaged")
}

test_archived_system_refused if {
	inp := object.union(good, {"system": {"slug": "churn", "risk_tier": "medium", "archived": true}})
	has_code(inp, "system.archived")
}

test_dangerous_pickle_global_denied_in_production if {
	inp := with_version({"artifact_format": "mlflow", "artifact": {"findings": [{
		"code": "pickle.dangerous_global", "severity": "critical",
		"message": "Loading this pickle imports and can call: posix.system", "location": "model.pkl",
	}]}})
	not allowed(inp)
	has_code(inp, "supply_chain.dangerous_pickle_global")
}

test_dangerous_pickle_global_only_warns_in_staging if {
	inp := object.union(
		with_version({"artifact": {"findings": [{"code": "pickle.dangerous_global", "severity": "critical", "message": "os.system"}]}}),
		{"request": {"environment": "staging", "requester": "alice"}},
	)
	allowed(inp)
	has_code(inp, "supply_chain.dangerous_pickle_global")
}

test_keras_lambda_layer_denied_in_production if {
	inp := with_version({"artifact_format": "keras", "artifact": {"findings": [{
		"code": "keras.lambda_layer", "severity": "critical",
		"message": "A Lambda layer holds Python bytecode", "location": "config.json/config/layers/1",
	}]}})
	not allowed(inp)
	has_code(inp, "supply_chain.keras_lambda_layer")
}

test_informational_findings_do_not_deny if {
	inp := with_version({"artifact": {"findings": [{"code": "pickle.imports", "severity": "info", "message": "sklearn.svm.SVC"}]}})
	allowed(inp)
}

with_ai_act(facts) := object.union(good, {"system": object.union(good.system, {"eu_ai_act": facts})})

test_unclassified_system_has_no_ai_act_violation if {
	allowed(with_ai_act({"classified": false}))
}

test_prohibited_practice_denied_in_every_environment if {
	facts := {"classified": true, "risk_class": "prohibited", "prohibited_practice": "5.1.c", "obligations": {}}
	inp := object.union(with_ai_act(facts), {"request": {"environment": "development", "requester": "alice"}})
	not allowed(inp)
	has_code(inp, "ai_act.prohibited_practice")
}

test_high_risk_without_conformity_assessment_denied_in_production if {
	facts := {"classified": true, "risk_class": "high_risk", "obligations": {"Art. 43": "in_progress", "Art. 49": "implemented"}}
	inp := with_ai_act(facts)
	not allowed(inp)
	has_code(inp, "ai_act.high_risk_not_ready")
}

test_high_risk_without_registration_only_warns_in_staging if {
	facts := {"classified": true, "risk_class": "high_risk", "obligations": {"Art. 43": "implemented", "Art. 49": "not_started"}}
	inp := object.union(with_ai_act(facts), {"request": {"environment": "staging", "requester": "alice"}})
	allowed(inp)
	has_code(inp, "ai_act.high_risk_not_ready")
}

test_high_risk_with_assessment_and_registration_allowed if {
	facts := {"classified": true, "risk_class": "high_risk", "obligations": {"Art. 43": "implemented", "Art. 49": "not_applicable", "Art. 9": "not_started"}}
	allowed(with_ai_act(facts))
}
