"""govctl check exits 0 on allow, 1 with the reasons on deny, 2 without a decision."""

from governance_sdk import policy_check
from governance_sdk.cli import main


def test_allowed(server, capsys):
    code = main(
        [
            "--url",
            server.url,
            "--token",
            "secret",
            "check",
            "--system",
            "copilot",
            "--version",
            "3.1.0",
            "--env",
            "production",
        ]
    )
    assert code == 0
    assert "allowed: copilot@3.1.0 to production" in capsys.readouterr().out


def test_denied_prints_the_reasons(server, capsys):
    code = main(
        [
            "--url",
            server.url,
            "--token",
            "secret",
            "check",
            "--system",
            "copilot",
            "--version",
            "9.9.9",
            "--env",
            "production",
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "denied" in out and "evaluation.regression: accuracy fell 4 points" in out


def test_no_decision_fails_closed(server, capsys):
    assert (
        main(
            [
                "--url",
                server.url,
                "--token",
                "wrong",
                "check",
                "--system",
                "c",
                "--version",
                "1",
                "--env",
                "production",
            ]
        )
        == 2
    )
    assert "HTTP 401" in capsys.readouterr().err
    assert (
        main(
            [
                "--url",
                "http://127.0.0.1:9",
                "--token",
                "t",
                "check",
                "--system",
                "c",
                "--version",
                "1",
                "--env",
                "production",
            ]
        )
        == 2
    )
    assert main(["check", "--system", "c", "--version", "1", "--env", "production"]) == 2


def test_policy_check_returns_the_decision(server):
    result = policy_check(
        server.url, token="secret", system="copilot", version="9.9.9", environment="production"
    )
    assert (result.allow, result.decision_id, result.policy_version) == (False, "d-1", 3)
