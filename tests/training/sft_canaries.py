"""Canary secrets for the dataset tests, assembled from pieces at run time so that no secret is
ever committed to this repository (and no scanner of ours flags the test source itself)."""

from __future__ import annotations

AWS_KEY_ID = "AKIA" + "Q7ZP" + "XM4R" + "TL9W" + "KD3V"
AWS_SECRET = "wJal" + "rXUt" + "nFEMI/K7MD" + "ENG/bPxRfiCY" + "zQ8vT3kLmNp"
GITHUB_TOKEN = "gh" + "p_" + "aB3dE5fG7hJ9kL1mN3pQ5" + "rS7tU9vW1xY3zA5"
PASSWORD = "Tr0ub4" + "dor&3-ho" + "rse-batt3ry"
KEY_BODY = "MIIEow" + "IBAAKCAQEA7Vq2" + "c9Fh" * 12 + "X1b2"
PRIVATE_KEY = (
    "-----BEGIN RSA "
    + "PRIVATE KEY-----\n"
    + "\n".join(KEY_BODY[i : i + 64] for i in range(0, len(KEY_BODY), 64))
    + "\n-----END RSA "
    + "PRIVATE KEY-----\n"
)
# Distinctive substrings: none may appear in any output, whole or in part.
MARKS = (AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, PASSWORD, KEY_BODY[:24], "PRIVATE KEY-----")

DOTENV = f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\nDEBUG=1\n"


def leaks(text: str) -> list[str]:
    """The canary marks found in `text`."""
    return [mark for mark in MARKS if mark in text]
