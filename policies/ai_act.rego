# EU AI Act (Regulation (EU) 2024/1689): a system classified as a prohibited practice (Art. 5)
# is never deployed; a high-risk system goes to an enforced environment only once the
# conformity assessment (Art. 43) and registration (Art. 49) obligations that bind the
# organisation are implemented (or recorded as not applicable, with a justification).
package governance.deployment

import rego.v1

ai_act_violations(inp) := ai_act_prohibited(inp) | ai_act_high_risk_unready(inp)

ai_act_prohibited(inp) := {v |
	inp.system.eu_ai_act.risk_class == "prohibited"
	v := {
		"code": "ai_act.prohibited_practice",
		"message": sprintf("AI system %s is classified as a prohibited practice under Art. 5 of the EU AI Act (%s): it may not be deployed anywhere.", [inp.system.slug, inp.system.eu_ai_act.prohibited_practice]),
		"severity": "deny",
		"controls": ["GOVERN 1.1"],
	}
}

ai_act_high_risk_unready(inp) := {v |
	inp.system.eu_ai_act.risk_class == "high_risk"
	some code in ["Art. 43", "Art. 49"]
	status := inp.system.eu_ai_act.obligations[code]
	not ai_act_obligation_met(status)
	v := {
		"code": "ai_act.high_risk_not_ready",
		"message": sprintf("AI system %s is high-risk under the EU AI Act and its %s obligation (%s) is %s, not implemented.", [inp.system.slug, code, ai_act_obligation_names[code], status]),
		"severity": severity_in(inp, data.policy.ai_act.enforced_environments),
		"controls": ["GOVERN 1.1"],
	}
}

ai_act_obligation_met(status) if status == "implemented"

ai_act_obligation_met(status) if status == "not_applicable"

ai_act_obligation_names := {"Art. 43": "conformity assessment", "Art. 49": "registration"}
