"""python manage.py process_orders: what time alone decides about authority orders.

Run every few minutes (deploy/systemd/chatsite-orders.timer): holds whose order
set an end (an EU preservation order's 60 days) are recorded as ended, and an
order's confidentiality that ran out is lifted, the member then told
(compliance.actions.do_process_orders, each change audited).
"""

from django.core.management.base import BaseCommand

from compliance.actions import do_process_orders


class Command(BaseCommand):
    help = "Ends holds past their order's term and lifts confidentiality that ran out."

    def handle(self, *args, **options):
        done = do_process_orders()
        if options["verbosity"]:
            self.stdout.write(
                f"holds ended: {len(done['holds_expired'])}; "
                f"orders whose confidentiality ended: {len(done['secrecy_lifted'])} "
                f"({sum(len(ids) for ids in done['secrecy_lifted'].values())} statements sent)"
            )
