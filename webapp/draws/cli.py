"""The draw on the command line: commit, reveal, substitute, publish, export, verify."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from . import ceremony, verify_draw
from .models import Batch, Draw

draw_cli = AppGroup("draw", help="Draw exports and verification.")


@draw_cli.command("export")
@click.argument("batch")
@click.argument("out", type=click.Path(dir_okay=False))
def export_command(batch, out):
    """Write the export of BATCH's live draw (an id, or ``latest``) as DRAW.md §5 describes."""
    if batch == "latest":
        draw = ceremony.latest_drawn()
    elif batch.isdigit() and db.session.get(Batch, int(batch)):
        b = db.session.get(Batch, int(batch))
        draw = b.live_draw or next((d for d in reversed(b.draws) if d.seed), None)
    else:
        draw = db.session.scalar(select(Draw).where(Draw.draw_id == batch))
    if draw is None or draw.seed is None:
        click.echo(f"no drawn draw for {batch!r}", err=True)
        sys.exit(1)
    Path(out).write_bytes(ceremony.export_zip(draw))
    click.echo(f"{draw.draw_id}: {out}")


@draw_cli.command("verify")
@click.argument("export", type=click.Path(exists=True, dir_okay=False))
def verify_command(export):
    """Check an export exactly as the stand-alone verify_draw.py does."""
    sys.exit(verify_draw.main([export]))


def _batch_or_exit(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        click.echo(f"no batch {batch_id}", err=True)
        sys.exit(1)
    return batch


def _run(step):
    """Run a ceremony step; a refusal prints its (translated) reason and exits 1."""
    from ..services import ServiceError
    try:
        return step()
    except ServiceError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)


@draw_cli.command("commit")
@click.argument("batch_id", type=int)
@click.option("--drand-round", type=int, help="a future drand quicknet round (default: about ten minutes ahead)")
@click.option("--lottery-issue", help="instead of drand: a future 福彩双色球 issue, seven digits, above every issue used")
@click.option("--lottery-at", help="its draw time: a Tuesday, Thursday or Sunday at 21:15 Beijing time, "
                                   "e.g. 2026-11-24T21:15")
def commit_command(batch_id, drand_round, lottery_issue, lottery_at):
    """Freeze BATCH_ID's inputs and publish the commitment (DRAW.md §1); drand is the default beacon."""
    batch = _batch_or_exit(batch_id)
    if drand_round and (lottery_issue or lottery_at):
        click.echo("give either --drand-round or --lottery-issue with --lottery-at, not both", err=True)
        sys.exit(1)
    if lottery_issue or lottery_at:
        form = {"beacon_kind": "lottery", "lottery_issue": lottery_issue or "", "lottery_at": lottery_at or ""}
    else:
        form = {"beacon_kind": "drand", "drand_round": str(drand_round or ceremony.suggest_drand_round())}
    draw = _run(lambda: ceremony.commit_draw(batch, form))
    click.echo(f"{draw.draw_id} commitment {draw.commitment}\nbeacon {draw.beacon_ref}")


@draw_cli.command("reveal")
@click.argument("batch_id", type=int)
@click.option("--value", help="the beacon value as published")
@click.option("--fetch", is_flag=True, help="fetch the committed drand round from DRAND_URL")
def reveal_command(batch_id, value, fetch):
    """Enter the beacon value of BATCH_ID's live draw, compute it and dispatch the tasks."""
    draw = _batch_or_exit(batch_id).live_draw
    if draw is None:
        click.echo("this batch has no committed draw", err=True)
        sys.exit(1)
    _run(lambda: ceremony.reveal(draw, value, fetch=fetch))
    click.echo(f"{draw.draw_id} seed {draw.seed}: {len(draw.result['selected'])} tasks, "
               f"{len(draw.result['unstaffed'])} unstaffed")


@draw_cli.command("publish")
@click.argument("batch_id", type=int)
def publish_command(batch_id):
    """Publish the inputs and result of BATCH_ID's drawn draw before its window closes."""
    draw = _batch_or_exit(batch_id).live_draw
    if draw is None:
        click.echo("this batch has no draw", err=True)
        sys.exit(1)
    _run(lambda: ceremony.publish_draw(draw))
    click.echo(f"{draw.draw_id} published")


@draw_cli.command("substitute")
@click.argument("batch_id", type=int)
@click.argument("kind", type=click.Choice(["inspector", "enterprise"]))
@click.argument("task")
@click.option("--out", "leaving", default="", help="the unavailable inspector's id (P00012)")
@click.option("--reason", required=True)
def substitute_command(batch_id, kind, task, leaving, reason):
    """Replace an unavailable inspector or an ineligible enterprise by the published order (§5)."""
    draw = _batch_or_exit(batch_id).live_draw
    if draw is None:
        click.echo("this batch has no draw", err=True)
        sys.exit(1)
    sub = _run(lambda: ceremony.substitute(draw, kind, task, leaving, reason))
    click.echo(f"{sub.kind} {sub.task}: {sub.out} → {sub.in_ or '-'}")
