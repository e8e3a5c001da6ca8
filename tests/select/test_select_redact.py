"""Secrets never land in kept logs."""

from __future__ import annotations

from code_assistant_lora.select.redact import MARK, redact, redact_file

TOKEN = "ghp_" + "Ab3d" * 9  # GitHub token format, assembled so no scanner flags this file
KEY_LINES = [
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEpAIBAAKCAQEA7",
    "-----END RSA PRIVATE KEY-----",
]


def test_known_formats_and_private_keys_are_replaced():
    text = "\n".join(
        [
            f"token={TOKEN}",
            "url=postgres://app:s3cretpass@db/app",
            *KEY_LINES,
            "after",
            "sha=" + "f" * 40,
        ]
    )
    clean, count = redact(text + "\n")
    assert TOKEN not in clean and "s3cretpass" not in clean and "MIIEpAIBAAKCAQEA7" not in clean
    assert count >= 3
    assert "after" in clean and "f" * 40 in clean  # hashes are not secrets
    assert clean.count(MARK) >= 4


def test_redact_file_rewrites_only_when_needed(tmp_path):
    clean = tmp_path / "clean.log"
    clean.write_text("all good\n")
    assert redact_file(clean) == 0
    dirty = tmp_path / "dirty.log"
    dirty.write_text(f"leaked {TOKEN}\n")
    assert redact_file(dirty) == 1
    assert TOKEN not in dirty.read_text()
    assert redact_file(tmp_path / "missing.log") == 0
