"""govctl register: uploads the artifact, the server inspects it and registers the version.
Exit 0 registered, 1 refused, 2 nothing sent or no answer, 3 the version exists."""

import json

from governance_sdk.cli import main


def register(server, *args: str) -> int:
    return main(["--url", server.url, "--token", "secret", "register", *args])


def test_a_model_file_is_uploaded_and_registered(server, tmp_path, capsys):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    code = register(
        server,
        "--system",
        "copilot",
        "--version",
        "3.1.0",
        "--artifact-uri",
        "s3://models/copilot/3.1.0",
        str(weights),
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "registered: copilot@3.1.0 from a safetensors artifact" in out
    assert "warning: license.missing: no license" in out
    assert "incomplete: missing datasets" in out
    (sent,) = server.registrations
    assert sent["system"] == "copilot"
    assert sent["fields"] == {"version": "3.1.0", "artifact_uri": "s3://models/copilot/3.1.0"}
    assert sent["files"] == [("model.safetensors", weights.read_bytes())]


def test_a_directory_sends_its_metadata_files_not_its_weights(server, tmp_path, capsys):
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "README.md").write_text("# Copilot\n")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 4096)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.md").write_text("not top level")
    code = register(server, "--system", "copilot", "--version", "3.2.0", str(tmp_path))
    assert code == 0
    assert "sent MLmodel, README.md" in capsys.readouterr().out
    (sent,) = server.registrations
    assert [name for name, _ in sent["files"]] == ["MLmodel", "README.md"]


def test_a_directory_without_metadata_files_is_refused_before_sending(server, tmp_path, capsys):
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 64)
    code = register(server, "--system", "copilot", "--version", "3.3.0", str(tmp_path))
    assert code == 2
    err = capsys.readouterr().err
    assert "nothing sent" in err and "pass the model file itself" in err
    assert server.registrations == []


def test_a_missing_path_is_refused_before_sending(server, tmp_path, capsys):
    code = register(server, "--system", "copilot", "--version", "3.3.0", str(tmp_path / "gone"))
    assert code == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert server.registrations == []


def test_an_existing_version_exits_3_with_the_problem_detail(server, tmp_path, capsys):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    code = register(server, "--system", "copilot", "--version", "1.0.0", str(weights))
    assert code == 3
    err = capsys.readouterr().err
    assert "HTTP 409" in err and "copilot already has a version '1.0.0'" in err
    assert "version: This system already has a version." in err


def test_an_unreadable_artifact_exits_1_with_the_reason(server, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    code = register(server, "--system", "copilot", "--version", "3.4.0", "--json", str(notes))
    assert code == 1
    captured = capsys.readouterr()
    assert "HTTP 422" in captured.err and "file: not a model file" in captured.err
    assert json.loads(captured.out)["status"] == 422


def test_an_unknown_system_exits_1(server, tmp_path, capsys):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    assert register(server, "--system", "nope", "--version", "1.1", str(weights)) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_json_prints_the_version_and_the_inspection(server, tmp_path, capsys):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    code = register(server, "--system", "copilot", "--version", "3.5.0", "--json", str(weights))
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["version"]["version"] == "3.5.0"
    assert printed["inspection"]["format"] == "safetensors"
    assert printed["sent"] == ["model.safetensors"]


def test_a_bad_token_or_no_server_exits_2(server, tmp_path, capsys):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    args = ["register", "--system", "copilot", "--version", "3.6.0", str(weights)]
    assert main(["--url", server.url, "--token", "wrong", *args]) == 2
    assert "HTTP 401" in capsys.readouterr().err
    assert main(["--url", "http://127.0.0.1:9", "--token", "secret", *args]) == 2
    assert "not registered" in capsys.readouterr().err
