"""Ledger against what we reported to Stripe and what Stripe has, per postpaid shop, for one month."""

import calendar
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing import usage_reporting


class Command(BaseCommand):
    help = "Compare the usage ledger with Stripe's meter per postpaid shop (minor units). Exit 1 on a difference."

    def add_arguments(self, parser):
        parser.add_argument("month", help="YYYY-MM")

    def handle(self, *args, month, **options):
        try:
            year, number = (int(part) for part in month.split("-"))
            start = date(year, number, 1)
        except ValueError as error:
            raise CommandError("month must look like 2026-11") from error
        end = date(year, number, calendar.monthrange(year, number)[1])
        rows = usage_reporting.reconcile(start, end)
        self.stdout.write(f"{'shop':30} {'currency':8} {'ledger':>12} {'reported':>12} {'stripe':>12} {'diff':>8}")
        for row in rows:
            self.stdout.write(
                f"{row['shop']:30} {row['currency']:8} {row['ledger']:>12} {row['reported']:>12} "
                f"{row['stripe'] if row['stripe'] is not None else '-':>12} "
                f"{row['difference'] if row['difference'] is not None else '-':>8}"
            )
        if any(row["difference"] for row in rows):
            raise CommandError("the ledger and Stripe differ")
