"""`dsr-intake`: run the intake on the embedded local AWS.

    dsr-intake demo [--verbose]                 the story of a day's emails, then a review cycle
    dsr-intake process [--json] FILE.eml ...    run emails through the pipeline, in order
    dsr-intake advance --days N [--json]        move the clock on; fire what falls due
    dsr-intake digest [--csv FILE]              send and print the panel pack now
    dsr-intake reset                            forget the local register
    dsr-intake samples DIR                      write sample emails as .eml files
    dsr-intake ops ACTION [--stack NAME]        answer the alarms (see `dsr-intake ops -h`)
    dsr-intake serve [--port N] [--smtp-port N] everything on one machine, in real time

process, advance and digest share a local register kept between commands (in .dsr-local,
or --state DIR); all but samples and reset take --parameter Name=Value for any template
parameter, e.g. MinimumAge=14. Output and logs carry case ids, reason codes and addresses,
never the forms' personal data (the panel pack CSV written by `digest --csv` has names).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from infrastructure.local_stack import Firing, LocalStack, LocalStackError, sent_emails
from infrastructure.session import (
    LocalSession,
    Pipeline,
    default_state_folder,
    firing_report,
    reset,
)


def _describe(line: dict[str, Any], indent: str = "   ") -> list[str]:
    if line["outcome"] is None:
        return [f"{indent}no outcome: {line['error']} (the email stays queued for another try)"]
    text = [
        f"{indent}outcome: {line['outcome']}"
        + (f"   case {line['case_id']}" if "case_id" in line else "")
    ]
    for reason in line["reasons"]:
        where = f" [{reason['field']}]" if "field" in reason else ""
        text.append(f"{indent}  - {reason['code']}{where}: {reason['message']}")
    for effect in line["effects"]:
        if effect["kind"] == "email" and not effect["to"] and effect["subject"] is None:
            # An erased case's outcome records keep no recipients or subjects.
            text.append(f"{indent}  email (who and subject forgotten: the case is erased)")
        elif effect["kind"] == "email":
            text.append(f'{indent}  email to {", ".join(effect["to"])}: "{effect["subject"]}"')
        elif effect["kind"] == "schedule":
            text.append(f"{indent}  next reminder scheduled for {effect['at']}")
        elif effect["kind"] == "unschedule":
            text.append(f"{indent}  reminder schedule deleted")
        else:
            text.append(f"{indent}  erase: stored emails, outbox and schedule of the case")
    for number, part in enumerate(line.get("parts", []), start=1):
        text.append(f"{indent}  child {number} of {len(line['parts'])}:")
        text += _describe(part, indent + "    ")
    if not line["effects"] and not line.get("parts"):
        text.append(f"{indent}  (nothing sent)")
    return text


def _firing_lines(firings: list[Firing], indent: str = "   ") -> list[str]:
    lines = []
    for firing in firings:
        data = firing_report(firing)
        lines.append(f"{indent}{firing.at:%d/%m/%Y %H:%M} {data['schedule']} -> {data['done']}")
        lines += [
            f'{indent}  email to {", ".join(to)}: "{subject}"' for to, subject in firing.emails
        ]
    return lines or [f"{indent}nothing fell due"]


def cmd_process(args: argparse.Namespace) -> int:
    files = [Path(name) for name in args.files]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        print(f"dsr-intake: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    failed = 0
    with LocalSession(args.state, args.parameters, echo_logs=args.verbose) as session:
        if args.on is not None:
            if session.steps:
                print(
                    f"dsr-intake: --on needs a new local register; {args.state} already has one "
                    "(run `dsr-intake reset` first)",
                    file=sys.stderr,
                )
                return 2
            session.start_on(args.on)
        for path in files:
            line = session.process(str(path), path.read_bytes())
            failed += line["outcome"] is None
            if args.json:
                print(json.dumps(line), flush=True)
            else:
                print(path)
                print("\n".join(_describe(line)))
        if not args.json:
            print(f"({session.summary()})")
    return 1 if failed else 0


# Ten years: every schedule a case can have falls due in far less (and each day costs time).
MAX_ADVANCE_DAYS = 3660


def cmd_advance(args: argparse.Namespace) -> int:
    if not 0 < args.days <= MAX_ADVANCE_DAYS:
        print(
            f"dsr-intake: --days must be more than 0 and at most {MAX_ADVANCE_DAYS} "
            "(the clock only moves forward, ten years at a time at most)",
            file=sys.stderr,
        )
        return 2
    with LocalSession(args.state, args.parameters, echo_logs=args.verbose) as session:
        start = session.stack.now()
        reports = session.advance(args.days)
        if args.json:
            for firing in reports:
                print(json.dumps(firing_report(firing)), flush=True)
        else:
            print(f"{start:%d/%m/%Y} -> {session.stack.now():%d/%m/%Y}:")
            print("\n".join(_firing_lines(reports)))
            print(f"({session.summary()})")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from shared.panel_pack import PanelPackService, panel_pack_csv, render_panel_pack
    from shared.settings import Settings

    if args.csv and (Path(args.csv).is_dir() or not Path(args.csv).resolve().parent.is_dir()):
        # Said before the pack is sent, not after.
        print(
            f"dsr-intake: cannot use {args.csv}: --csv needs a file in a folder that exists",
            file=sys.stderr,
        )
        return 2
    with LocalSession(args.state, args.parameters, echo_logs=args.verbose) as session:
        response, emails = session.digest()
        now = session.stack.now()
        settings = Settings.from_environment()
        assert session.pipeline is not None
        pack, cases = PanelPackService(settings, session.pipeline.register).build(now)
        print(f"DSR panel pack - {settings.area_name} - {now:%d/%m/%Y} (names left out here)\n")
        print(render_panel_pack(pack, with_names=False))
        if not response.get("sent"):
            print("(already emailed today; not sent again)")
        for to, subject in emails:
            print(f'emailed to {", ".join(to)}: "{subject}"')
        if args.csv:
            target = Path(args.csv)
            target.touch(mode=0o600, exist_ok=True)
            target.write_text(
                panel_pack_csv(cases, now.date(), settings.transition_age, settings.ctr_due_days)
            )
            print(f"wrote {target} (names and NHS numbers: keep it safe)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import contextlib
    import signal
    import threading

    from infrastructure.serve import Server

    def say(line: str) -> None:
        if line:
            print(line, flush=True)

    def stop_on_term(*_: object) -> None:
        raise KeyboardInterrupt  # `kill` stops it as Ctrl-C does

    signal.signal(signal.SIGTERM, stop_on_term)
    server = Server(
        args.state, args.parameters, smtp_port=args.smtp_port, http_port=args.port, say=say
    )
    try:
        server.start()
    except KeyboardInterrupt:  # stopped while starting: nothing was taken in yet
        with contextlib.suppress(Exception):
            server.stop()
        return 0

    def read_terminal() -> None:
        for line in sys.stdin:  # ends at end of input (serve run without a terminal)
            server.command(line)

    threading.Thread(target=read_terminal, daemon=True).start()
    try:
        server.run(threading.Event())  # until Ctrl-C
    except KeyboardInterrupt:
        print("\nstopping: the mail already accepted is processed first", flush=True)
    finally:
        server.stop()
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    print(
        f"forgot the local register in {args.state}" if reset(args.state) else "nothing to forget"
    )
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    from infrastructure.samples import case_form_samples, demo_emails

    folder = Path(args.directory)
    folder.mkdir(parents=True, exist_ok=True)
    for sample in [*demo_emails(), *case_form_samples()]:
        (folder / sample.name).write_bytes(sample.raw)
        print(f"{folder / sample.name}: {sample.story}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from infrastructure.samples import demo_emails

    print("DSR Intake - demo on the embedded local AWS (moto), no cloud account needed.\n")
    with LocalStack(args.parameters, echo_logs=args.verbose) as stack:
        print(
            f"Built stack '{stack.parameters['StageName']}' from template.yaml: "
            f"{len(stack.resources)} resources. Inbox {stack.parameters['InboxAddress']}, "
            f"coordinators {stack.parameters['CoordinatorAddresses']}.\n"
        )
        print(
            "Each email is stored in the mail bucket as SES would, then S3 -> SQS -> IntakeFunction,"
        )
        print(
            "and the outbox -> DynamoDB stream -> EffectsFunction (emails and reminder schedules).\n"
        )
        pipeline = Pipeline(stack)
        cases: dict[str, str] = {}
        for number, sample in enumerate(demo_emails(), start=1):
            print(f"{number:2}. {sample.name} - {sample.story}")
            line = pipeline.process(sample.name, sample.raw)
            if line.get("outcome") in ("accepted", "updated"):
                cases[sample.name] = line["case_id"]
            print("\n".join(_describe(line, indent="      ")))
            print()
        sent = sent_emails()
        print(
            f"SES sent {len(sent)} emails. Personal data went only to secure (nhs.net) addresses:"
        )
        for email in sent:
            print(f"   to {', '.join(email.to)}: {email.subject}")
        _print_register(pipeline)
        _demo_review_cycle(pipeline, cases)
    return 0


def _print_register(pipeline: Pipeline) -> None:
    print("\nThe register (names, dates of birth and NHS numbers stay in the table):")
    print(f"   {'case':14} {'status':18} {'rating':7} {'next review':12} consent")
    for case in pipeline.register.cases():
        print(
            f"   {case.case_id:14} {case.status.value:18} {(case.rating.value if case.rating else '-'):7} "
            f"{(case.next_review_on.isoformat() if case.next_review_on and case.status.value == 'active' else '-'):12} "
            f"{case.consent.basis.value if case.consent else '-'}"
        )


def _demo_review_cycle(pipeline: Pipeline, cases: dict[str, str]) -> None:
    """What happens after the first day: reminders, panel reviews, a discharge, a withdrawal."""
    from datetime import timedelta

    from infrastructure.samples import child, email, review_pdf, uk, withdrawal_pdf

    stack = pipeline.stack
    amira, leo = child(1), child(2, age=16)
    amira_case, leo_case = cases["01-valid-pair.eml"], cases["03-consent-follows.eml"]
    coordinator = "dsr.coordinator@nhs.net"

    def step(title: str) -> None:
        print(f"\n--- {stack.now():%d/%m/%Y}: {title}")

    def send(story: str, raw: bytes) -> None:
        print(f"   {story}")
        print("\n".join(_describe(pipeline.process(story, raw), indent="      ")))

    print("\n=== The weeks after: the clock moves on (dsr-intake advance) ===")
    step("15 days pass; EventBridge Scheduler fires the cases' reminders")
    print("\n".join(_firing_lines(pipeline.advance(15))))

    today = stack.now().date()
    step("the monthly panel meets; the coordinator emails two review outcome forms")
    send(
        f"review of {leo_case}: Red -> Amber, referred to the keyworker service",
        email(
            (
                "review.pdf",
                review_pdf(
                    leo,
                    leo_case,
                    rag_rating="Amber",
                    keyworker_referred="/Yes",
                    review_date=uk(today),
                ),
            ),
            sender=coordinator,
        ),
    )
    send(
        f"review of {amira_case}: admitted to hospital (Blue), next review in 10 days",
        email(
            (
                "review.pdf",
                review_pdf(
                    amira,
                    amira_case,
                    rag_rating="Blue",
                    review_date=uk(today),
                    next_review_date=uk(today + timedelta(days=10)),
                ),
            ),
            sender=coordinator,
        ),
    )
    step("12 more days")
    print("\n".join(_firing_lines(pipeline.advance(12))))
    today = stack.now().date()
    step(f"{amira_case} is discharged: a panel member's form finds it by NHS number alone")
    send(
        "review with a discharge date and no rating: the case becomes Red",
        email(
            (
                "review.pdf",
                review_pdf(
                    amira,
                    "",
                    rag_rating="",
                    review_date=uk(today),
                    discharge_date=uk(today - timedelta(days=1)),
                ),
            ),
            sender="panel.member@nhs.net",
        ),
    )
    send(
        "a second review rating it Green straight away: refused, Red for 14 days",
        email(
            (
                "review.pdf",
                review_pdf(
                    amira,
                    amira_case,
                    rag_rating="Green",
                    review_date=uk(today),
                    outcome_summary="Settled at home.",
                ),
            ),
            sender=coordinator,
        ),
    )
    step(f"consent is withdrawn for {leo_case}")
    send(
        f"withdrawal for {leo_case}: the case becomes a tombstone, everything else is erased",
        email(
            (
                "withdrawal.pdf",
                withdrawal_pdf(
                    leo,
                    leo_case,
                    withdrawn_by_name=f"{leo['child_given_name']} {leo['child_family_name']}",
                    withdrawn_by_relationship="self",
                    withdrawal_date=uk(today),
                ),
            ),
            sender=coordinator,
        ),
    )
    stored = _everything_stored(stack)
    print(
        f"   The young person's NHS number now appears in "
        f"{sum(leo['child_nhs_number'] in text for text in stored)} of the {len(stored)} items "
        "and objects stored (before: in the case, its emails and the outbox)."
    )
    step("40 more days: overdue escalation to the DSR lead, 18th birthdays, the panel pack")
    print("\n".join(_firing_lines(pipeline.advance(40))))
    _print_register(pipeline)
    print(
        "\nTry it yourself: dsr-intake samples samples/ ; dsr-intake process samples/01-valid-pair.eml"
    )
    print("then dsr-intake advance --days 30 ; dsr-intake digest ; dsr-intake reset")


def _everything_stored(stack: LocalStack) -> list[str]:
    """Every table item and bucket object as text (raw mail bodies decoded)."""
    from email import message_from_bytes
    from email.policy import default

    texts = []
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.resources["RegisterTable"]):
        texts += [str(item) for item in page["Items"]]
    bucket = stack.resources["RawMailBucket"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            raw = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            parts = [
                part.get_payload(decode=True) or b""
                for part in message_from_bytes(raw, policy=default).walk()
            ]
            texts.append(
                raw.decode("utf-8", "replace")
                + "".join(p.decode("latin-1") for p in parts if isinstance(p, bytes))
            )
    return texts


def cmd_ops(args: argparse.Namespace) -> int:
    from infrastructure import ops

    def run(target: ops.Target) -> list[str]:
        match args.action:
            case "status":
                return ops.status(target)
            case "redrive":
                done = ops.redrive_intake if args.queue == "intake" else ops.redrive_schedule
                return [done(target)]
            case "reprocess":
                return [ops.reprocess(target, args.message_id)]
            case "deliver-outbox":
                return [ops.deliver_outbox(target)]
            case "erase-test-case":
                return [ops.erase_test_case(target, args.case_id)]
            case "smoke":
                return _smoke(target, args)
            case _:
                return [ops.reconcile_schedules(target)]

    try:
        if args.stack:
            lines = run(ops.DeployedStack(args.stack))
        else:
            with LocalSession(args.state, args.parameters) as session:
                target = ops.LocalTarget(session.stack)
                args.local_stack = session.stack
                lines = run(target)
                target.run_intake()  # locally, a redriven or reprocessed email runs now
    except ops.OpsError as error:
        print(f"dsr-intake ops: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _smoke(target: Any, args: argparse.Namespace) -> list[str]:
    from infrastructure.smoke import SmokeTest
    from infrastructure.smoke_routes import route_for

    def say(line: str) -> None:
        print(line, flush=True)

    # The route (by the stack's InboundRoute) checks what it needs before anything is sent.
    if not args.stack:  # the local pipeline runs as each email arrives: no wait
        route = route_for(target, args.local_stack)
        return SmokeTest(target, route, say, wait_seconds=5, poll_seconds=0.5).run()
    return SmokeTest(target, route_for(target), say, wait_seconds=args.wait).run()


def _add_ops(commands: Any) -> None:
    from infrastructure import ops

    parser = commands.add_parser(
        "ops",
        help="answer the alarms: status, redrive, reprocess, deliver-outbox, reconcile; "
        "smoke-test a deployment",
        description=ops.__doc__.split("\n\n", 1)[1] if ops.__doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    for name, text in (
        ("status", "queue and DLQ depths, the oldest undelivered outbox item, schedules, alarms"),
        ("deliver-outbox", "deliver every undelivered outbox item now"),
        ("reconcile", "check and repair every open case's reminder schedule"),
    ):
        actions.add_parser(name, help=text)
    redrive = actions.add_parser("redrive", help="put a DLQ's messages back to work")
    redrive.add_argument("queue", choices=["intake", "schedule"])
    again = actions.add_parser("reprocess", help="run a stored email with no outcome again")
    again.add_argument("message_id", metavar="MESSAGE_ID")
    smoke = actions.add_parser(
        "smoke",
        help="send a synthetic referral (test NHS number) through the inbox, check its "
        "outcome, answer and schedule, then erase it and prove nothing is left",
    )
    smoke.add_argument(
        "--wait",
        type=float,
        default=300,
        metavar="SECONDS",
        help="longest wait for each step on a deployed stack (default 300)",
    )
    erase = actions.add_parser(
        "erase-test-case",
        help="erase a test case (NHS number 999...) as a withdrawal would; any other is refused",
    )
    erase.add_argument("case_id", metavar="CASE_ID")
    for action in actions.choices.values():
        action.add_argument(
            "--stack",
            metavar="NAME",
            help="a deployed stack (the usual AWS credentials and "
            "region); without it, the embedded local stack",
        )
        _add_parameters(action)
        _add_state(action)
        action.set_defaults(run=cmd_ops)


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(
            f"expected Name=Value (a template parameter), got {text!r}"
        )
    return name, value


def _add_parameters(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--parameter",
        dest="parameter_pairs",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter for the local stack, e.g. MinimumAge=14 (repeatable)",
    )


def _add_state(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--state",
        type=Path,
        default=default_state_folder(),
        metavar="DIR",
        help="where the local register is kept between commands (default .dsr-local)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dsr-intake", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="tell the story of a day's emails on the embedded local AWS"
    )
    demo.add_argument(
        "--verbose", action="store_true", help="also print the functions' log lines (stderr)"
    )
    _add_parameters(demo)
    demo.set_defaults(run=cmd_demo)
    process = commands.add_parser("process", help="run .eml files through the pipeline, in order")
    process.add_argument("--json", action="store_true", help="one JSON object a line per email")
    process.add_argument(
        "--verbose", action="store_true", help="also print the functions' log lines (stderr)"
    )
    process.add_argument(
        "--on",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="process on this day (a new local register only): emails with fixed dates, "
        "such as the test corpus, stay valid",
    )
    process.add_argument("files", nargs="+", metavar="FILE.eml")
    _add_parameters(process)
    process.set_defaults(run=cmd_process)
    _add_state(process)
    advance = commands.add_parser("advance", help="move the local clock on; fire what falls due")
    advance.add_argument("--days", type=float, required=True, help="how many days to move on")
    advance.add_argument("--json", action="store_true", help="one JSON object a line per firing")
    advance.add_argument(
        "--verbose", action="store_true", help="also print the functions' log lines (stderr)"
    )
    _add_parameters(advance)
    _add_state(advance)
    advance.set_defaults(run=cmd_advance)
    digest = commands.add_parser("digest", help="send and print the panel pack now")
    digest.add_argument("--csv", metavar="FILE", help="also write the pack's CSV (with names)")
    digest.add_argument(
        "--verbose", action="store_true", help="also print the functions' log lines (stderr)"
    )
    _add_parameters(digest)
    _add_state(digest)
    digest.set_defaults(run=cmd_digest)
    forget = commands.add_parser("reset", help="forget the local register")
    _add_state(forget)
    forget.set_defaults(run=cmd_reset)
    _add_ops(commands)
    serve = commands.add_parser(
        "serve",
        help="the local stack in real time: an SMTP inbox, a Maildir of what it sends, "
        "the console's port (until Ctrl-C)",
    )
    serve.add_argument("--port", type=int, default=8025, help="the console's port (8025)")
    serve.add_argument("--smtp-port", type=int, default=2525, help="the SMTP inbox's port (2525)")
    _add_parameters(serve)
    _add_state(serve)
    serve.set_defaults(run=cmd_serve)
    samples = commands.add_parser("samples", help="write sample emails as .eml files")
    samples.add_argument("directory")
    samples.set_defaults(run=cmd_samples)
    args = parser.parse_args(argv)
    args.parameters = dict(getattr(args, "parameter_pairs", []))
    try:
        result: int = args.run(args)
    except LocalStackError as error:
        print(f"dsr-intake: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a folder where a file should be, a missing folder, no rights
        where = f" {error.filename}" if error.filename else ""
        print(f"dsr-intake: cannot use{where}: {error.strerror or error}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
