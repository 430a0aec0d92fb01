"""Signups racing for one subdomain, on real concurrent connections with committed data."""

import threading

from django.db import connections

from tenants import provisioning
from tenants.models import Shop, User
from tenants.services.signup import SignupInvalid, sign_up
from tests.factories import signup_form


def test_concurrent_signups_for_one_subdomain_have_exactly_one_winner(committed):
    provisioning.refill_pool(4)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            sign_up(signup_form(subdomain="rebutan", email=f"rebutan{n}@example.test"))
            results.append("won")
        except SignupInvalid as exc:
            results.append(exc.errors.get("subdomain", ["?"])[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count("won") == 1
    losers = [r for r in results if r != "won"]
    assert len(losers) == 3 and len(set(losers)) == 1  # all told "this address is already taken"
    assert Shop.objects.filter(slug="rebutan").count() == 1
    assert User.objects.filter(email__startswith="rebutan").count() == 1
