"""The checklist features read the record systems when the environment names them.

One pytest run of features/checklist against an environment whose ``records:`` points at
four loopback servers that answer as GitHub ("List pull requests associated with a
commit", "List reviews for a pull request"), PagerDuty ("List all of the on-calls"),
ServiceNow (Table API change_request) and Slack (conversations.history) document. The
change request is still in "Assess": that scenario fails naming CHG0030001, the four
others pass on what the providers said, and the run's verdicts say "measured".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from tests.records import test_github as gh
from tests.records import test_pagerduty as pd
from tests.records import test_servicenow as sn
from tests.records import test_slack as sl
from tests.records.fake import serve

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("approved_by_two_reviewers or team_is_assigned or tracked_by_a_change_ticket "
             "or stakeholders_are_notified or team_availability_is_confirmed")
RELEASE = """\
version: v2.4.0
author: ann
commit: {merge}
change_ticket: CHG0030001
deployment_window: {{start: "2026-12-01T06:00:00Z", end: "2026-12-01T10:00:00Z"}}
approvals: [{{name: ann}}]
on_call: {{primary: nobody}}
"""
ENVIRONMENT = """\
name: records
kubernetes: {{kubeconfig: /nonexistent/kubeconfig}}
release: {{version: v2.4.0, manifest: {manifest}}}
records:
  timeout_s: 5
  retries: 1
  code_review: {{provider: github, url: "{github}", repository: {repo}, token: "env:GG_TEST_GITHUB_TOKEN"}}
  on_call: {{provider: pagerduty, url: "{pagerduty}", escalation_policy: PT20YPA, token: "env:GG_TEST_PD_TOKEN"}}
  change: {{provider: servicenow, url: "{servicenow}", user: svc-goldgate, password: "env:GG_TEST_SN_PASSWORD"}}
  notification: {{provider: slack, url: "{slack}", channel: C0RELEASES, token: "env:GG_TEST_SLACK_TOKEN"}}
"""


def test_checklist_reads_the_configured_providers(tmp_path: Path) -> None:
    with ExitStack() as stack:
        github = stack.enter_context(serve(gh.forge([gh.review(1, "bob", "APPROVED"), gh.review(2, "cy", "APPROVED")])))
        # PagerDuty's client speaks HTTPS only: its server has a certificate the run trusts by SSL_CERT_FILE.
        pagerduty = stack.enter_context(serve(pd.paging(pd.HEALTHY), tls=True))
        servicenow = stack.enter_context(serve(sn.table(sn.change(("-4", "Assess"), "requested"))))
        slack = stack.enter_context(serve(sl.history(sl.EARLY)))
        (tmp_path / "release.yaml").write_text(RELEASE.format(merge=gh.MERGE))
        (tmp_path / "records.yaml").write_text(ENVIRONMENT.format(
            manifest=tmp_path / "release.yaml", github=github.url, repo=gh.REPO, pagerduty=pagerduty.url,
            servicenow=servicenow.url, slack=slack.url))
        env = {**os.environ, "GOLDGATE_SANDBOX_DIR": str(tmp_path / "state"), "GG_TEST_GITHUB_TOKEN": "ghp-wired",
               "GG_TEST_PD_TOKEN": "pd-wired", "GG_TEST_SN_PASSWORD": "sn-wired", "GG_TEST_SLACK_TOKEN": "xoxb-wired",
               "SSL_CERT_FILE": pagerduty.ca}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "features/checklist", "-k", SCENARIOS,
             f"--environments-dir={tmp_path}", "--env=records", f"--verdict-file={tmp_path / 'verdict.json'}",
             f"--audit-log={tmp_path / 'audit.jsonl'}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    out = run.stdout + run.stderr
    assert "4 passed" in out and "1 failed" in out, out[-4000:]
    assert "CHG0030001 is in state 'Assess'" in out
    for secret in ("ghp-wired", "pd-wired", "sn-wired", "xoxb-wired"):
        assert secret not in out
    assert github.requests and pagerduty.requests and servicenow.requests and slack.requests
    verdicts = json.loads((tmp_path / "verdict.json").read_text())
    text = json.dumps(verdicts)
    assert "octo-org/trading-bot#1347" in text and "escalation policy PT20YPA" in text and "channel C0RELEASES" in text
    counts = verdicts["provenance"]
    assert counts.get("declared", 0) == 0 and counts.get("measured") == 5, counts
