"""SARIF 2.1.0 for code-scanning uploads (github/codeql-action/upload-sarif, warnings-ng)."""

from __future__ import annotations

from .. import __version__

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub orders code-scanning alerts by this 0-10 score.
_SECURITY_SEVERITY = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
    "info": "1.0",
}


def _rule_descriptors(rule_ids: list[str], findings: list[dict]) -> list[dict]:
    from ..review.rules import rule_by_id

    catalogue = {rule_id: rule_by_id(rule_id) for rule_id in rule_ids}
    first = {}
    for finding in findings:
        first.setdefault(finding["rule"], finding)
    descriptors = []
    for rule_id in rule_ids:
        rule = catalogue.get(rule_id)
        example = first[rule_id]
        rationale = rule.rationale if rule else example["rationale"]
        fix = rule.suggested_fix if rule else example["suggested_fix"]
        severity = rule.severity.value if rule else example["severity"]
        descriptors.append(
            {
                "id": rule_id,
                "name": rule_id.replace(".", "/"),
                "shortDescription": {"text": example["category"]},
                "fullDescription": {"text": rationale},
                "help": {"text": f"{rationale}\nFix: {fix}"},
                "defaultConfiguration": {"level": _LEVELS[severity]},
                "properties": {
                    "category": example["category"],
                    "tags": [example["category"], rule_id.split(".", 1)[0]],
                    "security-severity": _SECURITY_SEVERITY[severity],
                },
            }
        )
    return descriptors


def sarif_document(document: dict) -> dict:
    findings = document["findings"]
    rule_ids = sorted({f["rule"] for f in findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for finding in findings:
        results.append(
            {
                "ruleId": finding["rule"],
                "ruleIndex": index[finding["rule"]],
                "level": _LEVELS[finding["severity"]],
                "message": {"text": f"{finding['rationale']} Fix: {finding['suggested_fix']}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": finding["file"], "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": max(1, finding["line"]),
                                "endLine": max(1, finding["end_line"]),
                            },
                        }
                    }
                ],
                "partialFingerprints": {"codeAssistant/v1": finding["fingerprint"]},
                "properties": {
                    "severity": finding["severity"],
                    "category": finding["category"],
                    "source": finding["source"],
                },
            }
        )
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "code-assistant",
                        "informationUri": "https://github.com/code-assistant-lora/code-assistant-lora",
                        "version": __version__,
                        "rules": _rule_descriptors(rule_ids, findings),
                    }
                },
                "automationDetails": {"id": "code-assistant/review/"},
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "note", "message": {"text": note}}
                            for note in document.get("notes", [])
                        ],
                    }
                ],
            }
        ],
    }
