"""The `notesbot` command line: search and check a vault, serve the Slack app, post the digest."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.digest.commands import add_digest_arguments, run_digest_cli
from bot.engine.index_cache import load_vault
from bot.engine.scoring import KEYWORD_QUERY_TERMS
from bot.engine.search import Hit, Searcher, sections_found
from bot.engine.spelling import QueryTerms
from bot.engine.timestamps import format_timestamp
from bot.migrate import add_db_command
from bot.report import add_report_command

log = logging.getLogger("notesbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(**({"notes_dir": args.notes} if getattr(args, "notes", None) else {}))
    except ConfigError as error:
        print(f"notesbot: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args, settings) or 0)
    except ConfigError as error:
        print(f"notesbot: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notesbot", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    search = commands.add_parser("search", help="search the vault from the command line")
    search.add_argument("query", nargs="*", help="what to look for (omit with --batch)")
    _notes_option(search)
    search.add_argument("--limit", type=int, default=5, help="how many hits (default 5)")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")
    search.add_argument("--batch", action="store_true", help="one query a line on stdin, one JSON line out each")
    search.add_argument(
        "--explain", action="store_true", help="show the parts of each hit's score: fields, features, weights"
    )
    search.set_defaults(run=_search)

    digest = commands.add_parser("digest", help="post today's topic of the day now (--now), or list the schedules")
    _notes_option(digest)
    add_digest_arguments(digest)
    digest.set_defaults(run=run_digest_cli)

    check = commands.add_parser("check", help="list every problem of the vault's notes as path:line: message")
    _notes_option(check)
    check.set_defaults(run=_check)

    serve = commands.add_parser("serve", help="run the Slack app: HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN")
    _notes_option(serve)
    serve.set_defaults(run=_serve)

    add_db_command(commands)
    add_report_command(commands)
    return parser


def _notes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notes", type=Path, help="the vault folder (default: NOTES_DIR, else the bundled notes/)")


def open_searcher(settings: Settings, progress: bool) -> Searcher:
    """Load (or build) the vault's index and a searcher over it; a missing folder is a clear error."""
    if not settings.notes_dir.is_dir():
        raise ConfigError(f"NOTES_DIR: no folder at {settings.notes_dir}")
    vault = load_vault(settings.notes_dir, settings.cache_dir, progress=progress)
    return Searcher(vault.index)


def _search(args: argparse.Namespace, settings: Settings) -> int:
    searcher = open_searcher(settings, progress=sys.stderr.isatty())
    if args.batch:
        for line in sys.stdin:
            query = line.rstrip("\n")
            hits = searcher.search(query, args.limit) if query.strip() else []
            found = [_section_json(section, twin_of) for section, twin_of in sections_found(hits, args.limit)]
            print(json.dumps({"query": query, "hits": found}, ensure_ascii=False))
        return 0
    query = " ".join(args.query)
    if not query.strip():
        print("notesbot search: give a query, or --batch to read queries from stdin", file=sys.stderr)
        return 2
    reading = searcher.read_query(query)
    if args.explain:
        return _explain(searcher, reading, args.limit)
    hits, corrections = searcher.search_terms(reading, args.limit), reading.corrections
    if args.json:
        found = {"query": query, "corrections": corrections, "hits": [_hit_json(h) for h in hits]}
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    if corrections:
        print("Read as: " + ", ".join(f"{typed} → {read}" for typed, read in corrections.items()) + "\n")
    if not hits:
        suggestions = searcher.suggest(query)
        print(f"Nothing found for {query!r}." + (f" Try: {'; '.join(suggestions)}" if suggestions else ""))
        return 0
    for rank, hit in enumerate(hits, 1):
        print(_hit_text(rank, hit))
    return 0


def _explain(searcher: Searcher, reading: QueryTerms, limit: int) -> int:
    """Each hit with the parts of its score: its first stage's fields, then every feature's value, weight
    and part of the score's logarithm (`bot/engine/scoring.py`)."""
    if reading.corrections:
        print("Read as: " + ", ".join(f"{typed} → {read}" for typed, read in reading.corrections.items()))
    kind = "keyword" if len(reading.terms) <= KEYWORD_QUERY_TERMS else "question"
    print(f"{len(reading.terms)} terms: a {kind} query. Weights: {searcher.weights.source}\n")
    explained = searcher.explain(reading, limit)
    if not explained:
        print(f"Nothing found for {reading.query!r}.")
    for rank, found in enumerate(explained, 1):
        print(_hit_text(rank, found.hit))
        section, note = found.fields["section"], found.fields["note"]
        print(f"   first stage: section {section:.3f} + note {note:.3f} = {section + note:.3f}")
        print(f"   {'feature':<18}{'value':>9}{'weight':>9}{'part':>9}")
        for name, value in found.features.items():
            print(f"   {name:<18}{value:>9.3f}{found.weights[name]:>9.3f}{found.parts[name] + 0.0:>9.3f}")
        total = sum(found.parts.values())
        print(f"   {'ln score':<18}{'':>18}{total:>9.3f}  (score e^{total:.3f} = {found.hit.score:.4f})\n")
    return 0


def _hit_json(hit: Hit) -> dict:
    fields = {key: getattr(hit, key) for key in ("note", "heading", "title", "score", "url", "timestamp", "video_id")}
    twins = {"twins": [_hit_json(twin) for twin in hit.twins]} if hit.twins else {}
    return fields | {"heading_path": list(hit.heading_path)} | twins


def _section_json(section: Hit, twin_of: int | None) -> dict:
    """A section of `--batch`'s flat list: a hit without its twins (they are listed in their own places), or
    a twin naming the hit it is shown with by its rank."""
    fields = {key: value for key, value in _hit_json(section).items() if key != "twins"}
    return fields | ({"twin_of": twin_of} if twin_of is not None else {})


def _hit_text(rank: int, hit: Hit) -> str:
    where = " › ".join((*hit.heading_path, hit.heading)) or "(introduction)"
    excerpt = " ".join(hit.text.replace("**", "").split())
    excerpt = excerpt if len(excerpt) <= 240 else excerpt[:240].rsplit(" ", 1)[0] + "…"
    moment = f" at {format_timestamp(hit.timestamp)}" if hit.timestamp is not None else ""
    lines = [f"{rank}. {hit.title} — {where}  ({hit.note}, score {hit.score:.2f})", f"   {excerpt}"]
    if hit.url:
        lines.append(f"   ▶ watch{moment}: {hit.url}")
    if hit.other_notes:
        lines.append(f"   also in: {'; '.join(twin.title for twin in hit.other_notes)}")
    return "\n".join(lines) + "\n"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.server import serve_command  # here: the Slack stack is not needed by the other commands

    return serve_command(args, settings)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.notes_dir.is_dir():
        raise ConfigError(f"NOTES_DIR: no folder at {settings.notes_dir}")
    vault = load_vault(settings.notes_dir, settings.cache_dir, progress=sys.stderr.isatty())
    problems = sorted(vault.problems, key=lambda p: (p.path, p.line))
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    print(
        f"{vault.index.note_count} notes, {vault.index.section_count} sections served; "
        f"{errors} errors, {len(problems) - errors} warnings",
        file=sys.stderr,
    )
    return 1 if errors else 0
