"""The command line: click options (each with its variable) onto one call to ``start``, errors onto
exit codes (the one place an EntrypointError becomes one)."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any, Callable, NoReturn, Optional

import click

from kraft_entrypoint import cluster_id, start
from kraft_entrypoint.errors import EntrypointError, Interrupted
from kraft_entrypoint.options import GROUPS, OPTIONS, START

log = logging.getLogger("kraft_entrypoint")


def _with_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([option for option in OPTIONS if option.command == START]):
        shape: dict[str, Any] = {"metavar": "TEXT", "envvar": option.variable}
        help_ = option.help
        if option.flag_value is not None:
            # A flag without a value (--strict). Its variable holds a value, which start reads and
            # checks like any other: click would take STRICT=maybe for "flag not given".
            shape = {"flag_value": option.flag_value, "default": None}
            help_ = f"{help_} [env var: {option.variable}={option.flag_value}|{option.default}]"
        command = click.option(
            option.flag,
            option.variable.lower(),
            show_envvar=True,
            help=help_,
            show_default=option.default or option.derived_default or False,
            **shape,
        )(command)
    return command


def _print_new_cluster_id(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not context.resilient_parsing:
        click.echo(cluster_id.generate())
        context.exit(0)


class _GroupedHelp(click.Command):
    """--help lists the options under SPEC's headings, so the list stays readable as it grows."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        group_of = {option.variable.lower(): option.group for option in OPTIONS}
        sections: dict[str, list[tuple[str, str]]] = {group: [] for group in (*GROUPS, "Other options")}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections[group_of.get(param.name or "", "Other options")].append(record)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


@click.command(
    cls=_GroupedHelp,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 100}
)
@_with_options
@click.option("--dry-run", is_flag=True, help="Print the generated config; write, run and wait for nothing.")
@click.option(
    "--new-cluster-id",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_new_cluster_id,
    help="Print a fresh valid cluster id and exit.",
)
@click.version_option(package_name="kraft-entrypoint")
def command(dry_run: bool, **values: Optional[str]) -> None:
    """Configure, format if new, and exec Kafka 3.3+ (KRaft) as one pod of a StatefulSet.

    Every option can also be given by the variable shown; a flag wins over its variable.
    KAFKA_CFG_<NAME> variables set any broker property (KAFKA_CFG_LOG_RETENTION_HOURS=24).

    The Kubernetes exec probes: kraft-entrypoint probe startup|ready|live (--timeout, PROBE_TIMEOUT).
    """
    try:
        start.start({key.upper(): value for key, value in values.items()}, dry_run=dry_run)
    except EntrypointError as error:
        _exit(error)


def _exit(error: EntrypointError) -> NoReturn:
    log.error("%s", error)
    sys.exit(error.exit_code)


def _stop(signum: int, _frame: object) -> None:
    """PID 1 gets only the signals it handles: SIGTERM and SIGINT end the start at any moment."""
    raise Interrupted(signum, signal.Signals(signum).name)


def main() -> None:
    if sys.argv[1:2] == ["probe"]:  # the exec probes: their own command and client library
        from kraft_entrypoint import probe

        probe.main(sys.argv[2:])
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stop)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="kraft-entrypoint %(levelname)s: %(message)s"
    )
    try:
        command()
    except Interrupted as stopped:  # arrived outside the command's own handling
        _exit(stopped)
