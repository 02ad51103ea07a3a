"""`dsr-intake`: run the intake on the embedded local AWS.

    dsr-intake demo [--verbose]                 tell the story of a day's emails
    dsr-intake process [--json] FILE.eml ...    run emails through the pipeline, in order
    (both take --parameter Name=Value for any template parameter, e.g. MinimumAge=14)
    dsr-intake samples DIR                      write the demo's sample emails as .eml files

Output and logs carry case ids, reason codes and addresses, never the forms' personal data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from infrastructure.local_stack import LocalStack, LocalStackError, sent_emails
from shared.case import Submission


def report(file: str, submission: Submission) -> dict[str, Any]:
    """The JSON line `process --json` prints for one email."""
    line: dict[str, Any] = {
        "file": file,
        "message_id": submission.message_id,
        "outcome": submission.outcome.value,
    }
    if submission.case_id:
        line["case_id"] = submission.case_id
    line["reasons"] = [reason.as_report() for reason in submission.reasons]
    effects: list[dict[str, Any]] = []
    for effect in submission.effects:
        if effect.kind == "email":
            effects.append(
                {"kind": "email", "to": list(effect.to or ()), "subject": effect.subject}
            )
        else:
            assert effect.at is not None
            effects.append({"kind": "schedule", "at": effect.at.isoformat()})
    line["effects"] = effects
    return line


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
        if effect["kind"] == "email":
            text.append(f'{indent}  email to {", ".join(effect["to"])}: "{effect["subject"]}"')
        else:
            text.append(f"{indent}  review reminder scheduled for {effect['at']}")
    if not line["effects"]:
        text.append(f"{indent}  (nothing sent)")
    return text


class Pipeline:
    """The embedded stack, fed one email at a time."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        from shared.adapters import client
        from shared.adapters.register_table import RegisterTable

        self.register = RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])

    def process(self, file: str, raw: bytes) -> dict[str, Any]:
        """The email's report line; without an outcome, a line with `error` instead."""
        message_id = self.stack.deliver_email(raw)
        try:
            self.stack.run_pipeline()
        except RuntimeError as error:
            problem = str(error)
        else:
            problem = "no outcome was recorded"
        submission = self.register.submission(message_id)
        if submission is None:
            # Like Lambda, the email stays on the queue (and would reach the DLQ): not lost.
            return {"file": file, "message_id": message_id, "outcome": None, "error": problem}
        return report(file, submission)


def cmd_process(args: argparse.Namespace) -> int:
    files = [Path(name) for name in args.files]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        print(f"dsr-intake: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    failed = 0
    with LocalStack(args.parameters, echo_logs=args.verbose) as stack:
        pipeline = Pipeline(stack)
        for path in files:
            line = pipeline.process(str(path), path.read_bytes())
            failed += line["outcome"] is None
            if args.json:
                print(json.dumps(line), flush=True)
            else:
                print(path)
                print("\n".join(_describe(line)))
    return 1 if failed else 0


def cmd_samples(args: argparse.Namespace) -> int:
    from infrastructure.samples import demo_emails

    folder = Path(args.directory)
    folder.mkdir(parents=True, exist_ok=True)
    for sample in demo_emails():
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
            "and the outbox -> DynamoDB stream -> EffectsFunction (emails and review schedules).\n"
        )
        pipeline = Pipeline(stack)
        for number, sample in enumerate(demo_emails(), start=1):
            print(f"{number:2}. {sample.name} - {sample.story}")
            print("\n".join(_describe(pipeline.process(sample.name, sample.raw), indent="      ")))
            print()
        sent = sent_emails()
        print(
            f"SES sent {len(sent)} emails. Personal data went only to secure (nhs.net) addresses:"
        )
        for email in sent:
            print(f"   to {', '.join(email.to)}: {email.subject}")
        scheduler = stack.client("scheduler")
        group = stack.resources["ReviewScheduleGroup"]
        schedules = scheduler.list_schedules(GroupName=group)["Schedules"]
        print(f"\nReview schedules in group {group}:")
        for schedule in schedules:
            detail = scheduler.get_schedule(Name=schedule["Name"], GroupName=group)
            print(f"   {schedule['Name']}: {detail['ScheduleExpression']} -> ReminderFunction")
        print("\nThe register (names, dates of birth and NHS numbers stay in the table):")
        print(f"   {'case':14} {'status':18} {'rating':7} {'next review':12} consent")
        for case in pipeline.register.cases():
            print(
                f"   {case.case_id:14} {case.status.value:18} {(case.rating.value if case.rating else '-'):7} "
                f"{(case.next_review_on.isoformat() if case.next_review_on else '-'):12} "
                f"{case.consent.basis.value if case.consent else '-'}"
            )
    return 0


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
    process.add_argument("files", nargs="+", metavar="FILE.eml")
    _add_parameters(process)
    process.set_defaults(run=cmd_process)
    samples = commands.add_parser("samples", help="write the demo's sample emails as .eml files")
    samples.add_argument("directory")
    samples.set_defaults(run=cmd_samples)
    args = parser.parse_args(argv)
    args.parameters = dict(getattr(args, "parameter_pairs", []))
    try:
        result: int = args.run(args)
    except LocalStackError as error:
        print(f"dsr-intake: {error}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
