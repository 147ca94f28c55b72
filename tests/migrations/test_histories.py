"""Histories alembic generates in the test — linear, branched, merged, data-only — and the
downgrade defects teams actually ship, each judged by the round trip on scratch."""

from __future__ import annotations

from pathlib import Path

from goldgate.criteria import migrations as crit
from goldgate.probes import migrations as probe
from goldgate.verdict import Status
from tests.migrations.projects import DROP_ORDERS, ORDERS, Project, init, orders_project


def _judge(project: Project) -> dict[str, object]:
    scripts, walk = probe.read_scripts(project.root), probe.walk(project.root)
    return {"single-head": crit.single_head(scripts), "upgrade": crit.upgrade_clean(walk),
            "reversible": crit.reversible(walk), "descriptive-names": crit.descriptive_names(scripts, 3),
            "walk": walk}


def test_healthy_history_passes_every_rule(healthy: Project) -> None:
    verdicts = _judge(healthy)
    for rule in ("single-head", "upgrade", "reversible", "descriptive-names"):
        assert verdicts[rule].status is Status.PASS, verdicts[rule].message()  # type: ignore[attr-defined]


def test_branches_fail_single_head_but_every_head_is_walked(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("create accounts table for the risk branch",
                     'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))',
                     'op.drop_table("accounts")', head="base", branch_label="risk")
    verdicts = _judge(project)
    heads = sorted(probe.read_scripts(project.root).heads)
    single = verdicts["single-head"]
    assert single.status is Status.FAIL and single.observed == 2 and single.threshold == 1  # type: ignore[attr-defined]
    assert all(h in single.reason for h in heads)  # type: ignore[attr-defined]
    assert verdicts["upgrade"].status is Status.PASS  # type: ignore[attr-defined]
    assert verdicts["reversible"].status is Status.PASS, verdicts["reversible"].message()  # type: ignore[attr-defined]
    assert {r.revision for r in verdicts["walk"].reversals} == set(project.revisions)  # type: ignore[attr-defined]


def test_a_merge_point_is_walked_and_the_history_has_one_head(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    side = project.revision("create accounts table for the risk branch",
                            'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))',
                            'op.drop_table("accounts")', head="base", branch_label="risk")
    merge = project.merge("merge risk accounts into orders history", [project.revisions[1], side])
    verdicts = _judge(project)
    assert verdicts["single-head"].status is Status.PASS  # type: ignore[attr-defined]
    assert verdicts["reversible"].status is Status.PASS, verdicts["reversible"].message()  # type: ignore[attr-defined]
    walk = verdicts["walk"]
    assert walk.revisions[-1] == merge and merge in {r.revision for r in walk.reversals}  # type: ignore[attr-defined]


def test_data_only_revision_with_pass_downgrade_is_reversible(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("backfill symbol casing for gold orders", "op.execute(\"UPDATE orders SET symbol = 'XAUUSD'\")",
                     "pass")
    verdict = _judge(project)["reversible"]
    assert verdict.status is Status.PASS, verdict.message()  # type: ignore[attr-defined]


def test_downgrade_raising_not_implemented_fails_naming_it_and_the_walk_goes_on(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    bad = project.revision("add order note column for traders",
                           'op.add_column("orders", sa.Column("note", sa.String(200), nullable=True))',
                           "raise NotImplementedError")
    after = project.revision("add order venue column for routing",
                             'op.add_column("orders", sa.Column("venue", sa.String(20), nullable=True))',
                             'with op.batch_alter_table("orders") as batch:\n    batch.drop_column("venue")')
    verdicts = _judge(project)
    verdict = verdicts["reversible"]
    assert verdict.status is Status.FAIL  # type: ignore[attr-defined]
    assert bad in verdict.reason and "NotImplementedError" in verdict.reason  # type: ignore[attr-defined]
    assert project.file_of(bad).name in verdict.reason  # type: ignore[attr-defined]
    assert verdict.observed == "1 not reversible" and verdict.threshold == "0 not reversible"  # type: ignore[attr-defined]
    walk = verdicts["walk"]
    assert {r.revision: r.ok for r in walk.reversals}[after] is True  # type: ignore[attr-defined]
    assert walk.scratch_databases == 2  # type: ignore[attr-defined]
    assert verdicts["upgrade"].status is Status.PASS  # type: ignore[attr-defined]


def test_downgrade_forgetting_a_column_fails(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("add order note column for traders",
                     'op.add_column("orders", sa.Column("note", sa.String(200), nullable=True))', "pass")
    verdict = _judge(project)["reversible"]
    assert verdict.status is Status.FAIL and "orders.note left behind" in verdict.reason  # type: ignore[attr-defined]


def test_downgrade_forgetting_an_index_fails(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("index orders by symbol for reports", 'op.create_index("ix_orders_symbol", "orders", ["symbol"])',
                     "pass")
    verdict = _judge(project)["reversible"]
    assert verdict.status is Status.FAIL  # type: ignore[attr-defined]
    assert "orders index ix_orders_symbol (symbol) left behind" in verdict.reason  # type: ignore[attr-defined]


def test_downgrade_forgetting_a_foreign_key_fails(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("create accounts table with order owner",
                     'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))\n'
                     'op.add_column("orders", sa.Column("account_id", sa.Integer(), nullable=True))',
                     'with op.batch_alter_table("orders") as batch:\n    batch.drop_column("account_id")\n'
                     'op.drop_table("accounts")')
    project.revision("link orders to their owning account",
                     'with op.batch_alter_table("orders") as batch:\n'
                     '    batch.create_foreign_key("fk_orders_account", "accounts", ["account_id"], ["id"])',
                     "pass")
    verdict = _judge(project)["reversible"]
    assert verdict.status is Status.FAIL  # type: ignore[attr-defined]
    assert "foreign key (account_id) -> accounts(id) left behind" in verdict.reason  # type: ignore[attr-defined]


def test_downgrade_forgetting_nullability_fails(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    project.revision("require client order id on every order",
                     'with op.batch_alter_table("orders") as batch:\n'
                     '    batch.alter_column("client_order_id", existing_type=sa.String(64), nullable=False)', "pass")
    verdict = _judge(project)["reversible"]
    assert verdict.status is Status.FAIL  # type: ignore[attr-defined]
    assert "orders.client_order_id is VARCHAR(64) NOT NULL, expected VARCHAR(64) NULL" in verdict.reason  # type: ignore[attr-defined]


def test_failing_upgrade_fails_naming_the_revision(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "p")
    bad = project.revision("add order venue column twice by mistake",
                           'op.add_column("orders", sa.Column("symbol", sa.String(16)))', "pass")
    later = project.revision("add order venue column for routing",
                             'op.add_column("orders", sa.Column("venue", sa.String(20), nullable=True))', "pass")
    verdicts = _judge(project)
    upgrade = verdicts["upgrade"]
    assert upgrade.status is Status.FAIL  # type: ignore[attr-defined]
    assert f"upgrade {bad} ({project.file_of(bad).name}) failed" in upgrade.reason  # type: ignore[attr-defined]
    assert later in upgrade.reason and upgrade.observed == "2 of 4 upgraded"  # type: ignore[attr-defined]
    assert verdicts["reversible"].status is Status.INCONCLUSIVE  # type: ignore[attr-defined]


def test_empty_history_is_inconclusive(tmp_path: Path) -> None:
    verdicts = _judge(init(tmp_path / "p"))
    for rule in ("single-head", "upgrade", "reversible", "descriptive-names"):
        assert verdicts[rule].status is Status.INCONCLUSIVE, verdicts[rule].message()  # type: ignore[attr-defined]


def test_undescriptive_name_fails_naming_message_and_file(tmp_path: Path) -> None:
    project = init(tmp_path / "p")
    rev = project.revision("update", ORDERS, DROP_ORDERS)
    verdict = crit.descriptive_names(probe.read_scripts(project.root), 3)
    assert verdict.status is Status.FAIL and verdict.observed == 1 and verdict.threshold == 0
    assert f"{rev} 'update' ({project.file_of(rev).name}): 0 meaningful words" in verdict.reason
    assert "need 3 words" in verdict.reason
