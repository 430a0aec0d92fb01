"""The sales pipeline as the dashboard uses it: stages, deals, drag and drop, the board and its metrics."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Contact, Deal, DealStageChange, Stage, TimelineEvent
from whatsapp.models import Conversation, Message

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")


def stage(name: str) -> Stage:
    return Stage.objects.get(name=name)


def jakarta(month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=JAKARTA)


def new_contact(name: str) -> Contact:
    return Contact.objects.create(name=name, phone=f"+62812{abs(hash(name)) % 10**7:07d}")


def create_deal(client, contact, **fields):
    response = client.post("/api/crm/deals/", {"title": "Seragam", "contact_id": contact.pk, **fields}, **JSON)
    assert response.status_code == 201, response.content
    return response.json()


def move(client, deal_id, stage_id, **fields):
    return client.post(f"/api/crm/deals/{deal_id}/move/", {"stage_id": stage_id, **fields}, **JSON)


def test_a_deal_lost_needs_a_reason_and_its_moves_show_in_history_and_timeline(shop_a, in_shop):
    with in_shop(shop_a.shop):
        contact = new_contact("Bu Rina")
        prospek, kalah = stage("Prospek"), stage("Kalah")
    agent = shop_a.client(shop_a.agent)
    created = create_deal(agent, contact, title="50 kaos komunitas", value=7_500_000, expected_close="2026-12-01")
    assert (created["stage"]["name"], created["owner_id"], created["owner_name"]) == (
        "Prospek", shop_a.agent.pk, shop_a.agent.name
    )  # fmt: skip
    assert (created["value"], created["currency"], created["contacted_at"], created["closed_at"]) == (
        7_500_000, "IDR", None, None
    )  # fmt: skip

    refused = move(agent, created["id"], kalah.pk)
    assert refused.status_code == 400
    assert refused.json() == {"lost_reason": ["Say why the deal was lost."]}

    lost = move(agent, created["id"], kalah.pk, lost_reason="Harga terlalu mahal").json()
    assert (lost["stage"]["name"], lost["lost_reason"]) == ("Kalah", "Harga terlalu mahal")
    assert lost["closed_at"] is not None and lost["contacted_at"] is None  # lost without ever talking
    assert [(h["from_stage_name"], h["to_stage_name"], h["actor_name"]) for h in lost["history"]] == [
        (None, "Prospek", shop_a.agent.name),
        ("Prospek", "Kalah", shop_a.agent.name),
    ]
    with in_shop(shop_a.shop):
        assert list(TimelineEvent.objects.filter(contact=contact).values_list("summary", flat=True)) == [
            "Deal 50 kaos komunitas moved to Kalah",
            "Deal 50 kaos komunitas created in Prospek",
        ]
    assert prospek.pk == created["stage"]["id"]


def test_reopening_a_won_deal_clears_closed_at_but_keeps_when_it_was_contacted(shop_a, in_shop):
    with in_shop(shop_a.shop):
        contact = new_contact("Pak Budi")
        menang, negosiasi = stage("Menang"), stage("Negosiasi")
    owner = shop_a.client(shop_a.owner)
    created = create_deal(owner, contact, owner_id=shop_a.agent.pk)
    won = move(owner, created["id"], menang.pk).json()
    assert won["closed_at"] is not None and won["contacted_at"] is not None  # a won deal was contacted
    reopened = move(owner, created["id"], negosiasi.pk).json()
    assert (reopened["stage"]["name"], reopened["closed_at"]) == ("Negosiasi", None)
    assert reopened["contacted_at"] == won["contacted_at"]
    with in_shop(shop_a.shop):
        assert Deal.objects.get(pk=created["id"]).closed_at is None


def test_owner_must_be_on_the_team_and_details_can_be_edited(shop_a, shop_b, in_shop):
    with in_shop(shop_a.shop):
        contact = new_contact("Mbak Sinta")
    owner = shop_a.client(shop_a.owner)
    refused = owner.post(
        "/api/crm/deals/", {"title": "Batik", "contact_id": contact.pk, "owner_id": shop_b.agent.pk}, **JSON
    )
    assert refused.status_code == 400 and list(refused.json()) == ["owner_id"]
    created = create_deal(owner, contact)
    edited = owner.patch(
        f"/api/crm/deals/{created['id']}/", {"value": 1_250_000, "owner_id": shop_a.admin.pk}, **JSON
    ).json()
    assert (edited["value"], edited["owner_name"], edited["title"]) == (1_250_000, shop_a.admin.name, "Seragam")


def test_drag_and_drop_keeps_positions_dense_in_both_columns(shop_a, in_shop):
    with in_shop(shop_a.shop):
        contact = new_contact("Toko Maju")
        prospek, dihubungi = stage("Prospek"), stage("Dihubungi")
    agent = shop_a.client(shop_a.agent)
    first, second, third = (create_deal(agent, contact, title=title)["id"] for title in ("A", "B", "C"))

    def column(stage_id):
        with in_shop(shop_a.shop):
            return list(Deal.objects.filter(stage_id=stage_id).order_by("position").values_list("title", "position"))

    assert column(prospek.pk) == [("A", 0), ("B", 1), ("C", 2)]
    assert move(agent, third, prospek.pk, position=0).status_code == 200
    assert column(prospek.pk) == [("C", 0), ("A", 1), ("B", 2)]
    move(agent, third, prospek.pk, position=99)  # past the end: the last place
    assert column(prospek.pk) == [("A", 0), ("B", 1), ("C", 2)]
    move(agent, second, dihubungi.pk, position=0)
    move(agent, first, dihubungi.pk, position=0)
    assert column(prospek.pk) == [("C", 0)]
    assert column(dihubungi.pk) == [("A", 0), ("B", 1)]
    with in_shop(shop_a.shop):
        # Only a move into another stage is a stage change; reordering is not history.
        assert DealStageChange.objects.filter(deal_id=third).count() == 1


def test_board_shows_50_deals_per_column_with_whole_column_totals_in_constant_queries(
    shop_a, in_shop, django_assert_max_num_queries
):
    with in_shop(shop_a.shop):
        contact = new_contact("Grosir Sejahtera")
        prospek, menang = stage("Prospek"), stage("Menang")
        Deal.objects.bulk_create(
            Deal(title=f"Prospek {i}", contact=contact, stage=prospek, position=i, value=10_000,
                 owner_id=shop_a.agent.pk)
            for i in range(55)
        )  # fmt: skip
        Deal.objects.bulk_create(
            [
                Deal(title="Menang 0", contact=contact, stage=menang, position=0, value=2_000_000),
                Deal(title="Menang 1", contact=contact, stage=menang, position=1, value=500_000,
                     owner_id=shop_a.owner.pk),
            ]
        )  # fmt: skip
    client = shop_a.client(shop_a.agent)
    # Host, session, user, membership; then stages with totals, the shown deals, owner names
    # (each query preceded by a SET search_path under the test runner).
    with django_assert_max_num_queries(14):
        board = client.get("/api/crm/deals/board/").json()
    columns = {column["name"]: column for column in board["stages"]}
    assert [column["name"] for column in board["stages"]] == ["Prospek", "Dihubungi", "Negosiasi", "Menang", "Kalah"]
    assert (columns["Prospek"]["count"], columns["Prospek"]["total_value"]) == (55, 550_000)
    assert [deal["title"] for deal in columns["Prospek"]["deals"]] == [f"Prospek {i}" for i in range(50)]
    assert (columns["Menang"]["count"], columns["Menang"]["total_value"]) == (2, 2_500_000)
    card = columns["Prospek"]["deals"][0]
    assert card["contact"] == {"id": contact.pk, "name": "Grosir Sejahtera", "phone": contact.phone}
    assert (card["owner_id"], card["owner_name"], card["position"]) == (shop_a.agent.pk, shop_a.agent.name, 0)
    assert (columns["Dihubungi"]["count"], columns["Dihubungi"]["total_value"], columns["Dihubungi"]["deals"]) == (
        0, 0, []
    )  # fmt: skip

    # The same number of queries for a quarter of the deals: no query per deal or per owner.
    with CaptureQueriesContext(connection) as small:
        client.get("/api/crm/deals/board/", {"owner_id": shop_a.owner.pk})
    with CaptureQueriesContext(connection) as large:
        client.get("/api/crm/deals/board/")
    assert len(small) == len(large)

    mine = client.get("/api/crm/deals/board/", {"owner_id": shop_a.owner.pk}).json()
    assert [(c["name"], c["count"], c["total_value"]) for c in mine["stages"] if c["count"]] == [("Menang", 1, 500_000)]

    more = client.get("/api/crm/deals/", {"stage_id": prospek.pk, "offset": 50}).json()
    assert [deal["title"] for deal in more["results"]] == [f"Prospek {i}" for i in range(50, 55)]
    assert more["next"] is None


def test_a_deal_of_another_shop_is_not_on_this_shops_board(shop_a, shop_b, in_shop):
    with in_shop(shop_b.shop):
        theirs = Deal.objects.create(
            title="Rahasia toko B", contact=new_contact("Pelanggan B"), stage=stage("Prospek"), value=9_000_000
        )
    response = shop_a.client(shop_a.owner).get("/api/crm/deals/board/")
    assert response.status_code == 200
    titles = [deal["title"] for column in response.json()["stages"] for deal in column["deals"]]
    assert "Rahasia toko B" not in titles
    assert shop_a.client(shop_a.owner).get(f"/api/crm/deals/{theirs.pk}/").status_code == 404


def test_agents_see_stages_but_only_managers_configure_them(shop_a, in_shop):
    with in_shop(shop_a.shop):
        negosiasi = stage("Negosiasi")
    agent = shop_a.client(shop_a.agent)
    listed = agent.get("/api/crm/stages/").json()
    assert [(s["name"], s["kind"], s["position"], s["counts_as_contacted"]) for s in listed] == [
        ("Prospek", "open", 0, False),
        ("Dihubungi", "open", 1, True),
        ("Negosiasi", "open", 2, True),
        ("Menang", "won", 3, True),
        ("Kalah", "lost", 4, False),
    ]
    assert agent.post("/api/crm/stages/", {"name": "Survei", "kind": "open"}, **JSON).status_code == 403
    assert agent.patch(f"/api/crm/stages/{negosiasi.pk}/", {"name": "Nego"}, **JSON).status_code == 403
    assert agent.delete(f"/api/crm/stages/{negosiasi.pk}/").status_code == 403
    with in_shop(shop_a.shop):
        assert Stage.objects.filter(name="Negosiasi").exists() and not Stage.objects.filter(name="Survei").exists()


def test_managers_add_reorder_and_delete_stages(shop_a, in_shop):
    admin = shop_a.client(shop_a.admin)
    survei = admin.post("/api/crm/stages/", {"name": "Survei", "kind": "open", "position": 1}, **JSON)
    assert survei.status_code == 201
    assert (survei.json()["position"], survei.json()["deal_count"]) == (1, 0)
    names = lambda: [s["name"] for s in admin.get("/api/crm/stages/").json()]  # noqa: E731
    assert names() == ["Prospek", "Survei", "Dihubungi", "Negosiasi", "Menang", "Kalah"]
    appended = admin.post("/api/crm/stages/", {"name": "Batal", "kind": "lost"}, **JSON).json()
    assert appended["position"] == 6
    moved = admin.patch(f"/api/crm/stages/{survei.json()['id']}/", {"position": 3, "name": "Survei lokasi"}, **JSON)
    assert moved.json()["position"] == 3
    assert names() == ["Prospek", "Dihubungi", "Negosiasi", "Survei lokasi", "Menang", "Kalah", "Batal"]
    assert admin.delete(f"/api/crm/stages/{survei.json()['id']}/").status_code == 204
    assert admin.delete(f"/api/crm/stages/{appended['id']}/").status_code == 204
    positions = [(s["name"], s["position"]) for s in admin.get("/api/crm/stages/").json()]
    assert positions == [("Prospek", 0), ("Dihubungi", 1), ("Negosiasi", 2), ("Menang", 3), ("Kalah", 4)]


def test_a_stage_with_deals_or_the_last_won_or_lost_stage_cannot_be_deleted(shop_a, in_shop):
    with in_shop(shop_a.shop):
        dihubungi, menang, kalah = stage("Dihubungi"), stage("Menang"), stage("Kalah")
        Deal.objects.create(title="Kain", contact=new_contact("Bu Ani"), stage=dihubungi, value=100_000)
    owner = shop_a.client(shop_a.owner)
    refused = owner.delete(f"/api/crm/stages/{dihubungi.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "“Dihubungi” still has 1 deals: move them to another stage first.",
        "code": "stage_has_deals",
    }
    assert owner.delete(f"/api/crm/stages/{kalah.pk}/").json()["code"] == "last_lost_stage"
    assert owner.patch(f"/api/crm/stages/{menang.pk}/", {"kind": "open"}, **JSON).json()["code"] == "last_won_stage"
    listed = {s["name"]: s["deal_count"] for s in owner.get("/api/crm/stages/").json()}
    assert listed == {"Prospek": 0, "Dihubungi": 1, "Negosiasi": 0, "Menang": 0, "Kalah": 0}


@pytest.fixture
def march(shop_a, in_shop):
    """Eleven deals with known histories around March 2026 (Jakarta, UTC+7).

    Stages: Prospek(0) Dihubungi(1, contacted) Negosiasi(2, contacted) Menang(3, won) Kalah(4, lost).
    O = the owner, G = the agent. Days are Jakarta dates.

    deal owner created  path                                          contacted_at   closed_at
    D1   O     03-02    Prospek, Dihubungi 03-03, Negosiasi 03-05,     03-03          03-10 09:00
                        Menang 03-10 09:00
    D2   O     03-04    Prospek, Dihubungi 03-04, Menang 03-08 21:00   03-04          03-08 21:00
    D3   G     03-06    Prospek, Dihubungi 03-07, Kalah 03-09 "Harga"  03-07          03-09
    D4   G     03-06    Prospek, Kalah 03-08 "Tidak ada respon"        -              03-08
                        (a staff message on 03-20, after it was lost)
    D5   G     03-10    Prospek, Dihubungi 03-11, Negosiasi 03-12      03-11          -
    D6   O     03-12    Prospek; staff WhatsApp message 03-13          -              -
    D7   O     03-12    Prospek; only an automated message 03-13       -              -
    D8   G     02-20    Prospek, Dihubungi 02-21, Menang 03-01 00:30   02-21          03-01 00:30 (02-28 UTC)
    D9   O     03-20    Prospek, Dihubungi 03-20, Menang 03-25,        03-20          - (reopened)
                        Negosiasi 03-27
    D10  G     03-31 23:00  Prospek, Dihubungi 04-01 00:30             04-01 00:30    -  (03-31 UTC)
    D11  O     03-14    Prospek, Dihubungi 03-14, Negosiasi 03-15,     03-14          03-16
                        Kalah 03-16 "Harga"

    By hand, for 2026-03-01..2026-03-31:
    contacted = D1 D2 D3 D5 D6 D9 D11 = 7 (D4's message came after it was lost, D7's was automated,
                D8 was contacted in February, D10 on April 1 in Jakarta); won = D1 D2 D8 = 3;
                lost = D3 D4 D11 = 3; closing rate 3/7 = 0.4286.
    by owner:   O contacted D1 D2 D6 D9 D11 = 5, won D1 D2 = 2 -> 0.4000;
                G contacted D3 D5 = 2, won D8 = 1 -> 0.5000.
    days to close (won): D1 8.0, D2 4.5, D8 9.0 -> 21.5 / 3 = 7.17 -> 7.2.
    funnel (created in March: all but D8, 10 deals):
                Prospek 10; Dihubungi D1 D2 D3 D5 D9 D10 D11 = 7 (0.7000);
                Negosiasi D1 D2 D5 D9 D11 = 5 (5/7 = 0.7143; D2 skipped it but was won);
                Menang D1 D2 D9 = 3 (0.6000).
    lost reasons: Harga 2 (D3, D11), Tidak ada respon 1 (D4).
    Only G's deals: contacted 2, won 1 (0.5000); funnel D3 D4 D5 D10: 4, 3 (0.7500), 1 (0.3333), 0 (0.0000).
    """
    with in_shop(shop_a.shop):
        stages = {s.name: s for s in Stage.objects.all()}
        owner, agent = shop_a.owner.pk, shop_a.agent.pk
        deals = {}

        def deal(key, owner_id, created, path, contacted=None, closed=None, reason=""):
            contact = new_contact(f"Pelanggan {key}")
            final = stages[path[-1][0]]
            made = Deal.objects.create(
                title=key, contact=contact, stage=final, owner_id=owner_id, value=1_000_000, created_at=created,
                contacted_at=contacted, closed_at=closed, lost_reason=reason,
                position=Deal.objects.filter(stage=final).count(),
            )  # fmt: skip
            previous = None
            for name, at in path:
                DealStageChange.objects.create(deal=made, from_stage=previous, to_stage=stages[name], changed_at=at)
                previous = stages[name]
            deals[key] = made
            return contact

        def message(contact, at, automated=False):
            conversation = Conversation.objects.create(contact=contact, last_message_at=at)
            Message.objects.create(
                conversation=conversation, direction="out", text="Halo kak", status="delivered", created_at=at,
                automated=automated,
            )  # fmt: skip

        deal("D1", owner, jakarta(3, 2), [("Prospek", jakarta(3, 2)), ("Dihubungi", jakarta(3, 3)),
             ("Negosiasi", jakarta(3, 5)), ("Menang", jakarta(3, 10))], jakarta(3, 3), jakarta(3, 10))  # fmt: skip
        deal("D2", owner, jakarta(3, 4), [("Prospek", jakarta(3, 4)), ("Dihubungi", jakarta(3, 4, 10)),
             ("Menang", jakarta(3, 8, 21))], jakarta(3, 4, 10), jakarta(3, 8, 21))  # fmt: skip
        deal("D3", agent, jakarta(3, 6), [("Prospek", jakarta(3, 6)), ("Dihubungi", jakarta(3, 7)),
             ("Kalah", jakarta(3, 9))], jakarta(3, 7), jakarta(3, 9), "Harga terlalu mahal")  # fmt: skip
        d4 = deal("D4", agent, jakarta(3, 6), [("Prospek", jakarta(3, 6)), ("Kalah", jakarta(3, 8))],
                  None, jakarta(3, 8), "Tidak ada respon")  # fmt: skip
        message(d4, jakarta(3, 20))
        deal("D5", agent, jakarta(3, 10), [("Prospek", jakarta(3, 10)), ("Dihubungi", jakarta(3, 11)),
             ("Negosiasi", jakarta(3, 12))], jakarta(3, 11))  # fmt: skip
        message(deal("D6", owner, jakarta(3, 12), [("Prospek", jakarta(3, 12))]), jakarta(3, 13))
        message(deal("D7", owner, jakarta(3, 12), [("Prospek", jakarta(3, 12))]), jakarta(3, 13), automated=True)
        deal("D8", agent, jakarta(2, 20, 0, 30), [("Prospek", jakarta(2, 20, 0, 30)), ("Dihubungi", jakarta(2, 21)),
             ("Menang", jakarta(3, 1, 0, 30))], jakarta(2, 21), jakarta(3, 1, 0, 30))  # fmt: skip
        deal("D9", owner, jakarta(3, 20), [("Prospek", jakarta(3, 20)), ("Dihubungi", jakarta(3, 20, 11)),
             ("Menang", jakarta(3, 25)), ("Negosiasi", jakarta(3, 27))], jakarta(3, 20, 11))  # fmt: skip
        deal("D10", agent, jakarta(3, 31, 23), [("Prospek", jakarta(3, 31, 23)),
             ("Dihubungi", jakarta(4, 1, 0, 30))], jakarta(4, 1, 0, 30))  # fmt: skip
        deal("D11", owner, jakarta(3, 14), [("Prospek", jakarta(3, 14)), ("Dihubungi", jakarta(3, 14, 10)),
             ("Negosiasi", jakarta(3, 15)), ("Kalah", jakarta(3, 16))], jakarta(3, 14, 10), jakarta(3, 16),
             "Harga terlalu mahal")  # fmt: skip
        return stages


def test_metrics_match_the_hand_computed_march(shop_a, march, django_assert_max_num_queries):
    client = shop_a.client(shop_a.agent)
    # Host, session, user, membership; totals, per owner, owner names, lost reasons, stages, funnel
    # (each query preceded by a SET search_path under the test runner): the same for any number of deals.
    with django_assert_max_num_queries(20):
        response = client.get("/api/crm/pipeline/metrics/", {"from": "2026-03-01", "to": "2026-03-31"})
    body = response.json()
    assert (body["from"], body["to"]) == ("2026-03-01", "2026-03-31")
    assert (body["prospects_contacted"], body["won"], body["lost"], body["closing_rate"]) == (7, 3, 3, "0.4286")
    assert body["average_days_to_close"] == "7.2"
    assert sorted(body["win_rate_by_owner"], key=lambda row: row["owner_id"]) == sorted(
        [
            {"owner_id": shop_a.owner.pk, "owner_name": shop_a.owner.name, "contacted": 5, "won": 2,
             "win_rate": "0.4000"},
            {"owner_id": shop_a.agent.pk, "owner_name": shop_a.agent.name, "contacted": 2, "won": 1,
             "win_rate": "0.5000"},
        ],
        key=lambda row: row["owner_id"],
    )  # fmt: skip
    assert [(row["name"], row["reached"], row["conversion_from_previous"]) for row in body["funnel"]] == [
        ("Prospek", 10, None),
        ("Dihubungi", 7, "0.7000"),
        ("Negosiasi", 5, "0.7143"),
        ("Menang", 3, "0.6000"),
    ]
    assert body["funnel"][0]["stage_id"] == march["Prospek"].pk
    assert body["lost_reasons"] == [
        {"reason": "Harga terlalu mahal", "count": 2},
        {"reason": "Tidak ada respon", "count": 1},
    ]


def test_metrics_for_one_owner_and_an_empty_period(shop_a, march):
    client = shop_a.client(shop_a.owner)
    body = client.get(
        "/api/crm/pipeline/metrics/", {"from": "2026-03-01", "to": "2026-03-31", "owner_id": shop_a.agent.pk}
    ).json()
    assert (body["prospects_contacted"], body["won"], body["lost"], body["closing_rate"]) == (2, 1, 2, "0.5000")
    assert [(row["reached"], row["conversion_from_previous"]) for row in body["funnel"]] == [
        (4, None), (3, "0.7500"), (1, "0.3333"), (0, "0.0000"),
    ]  # fmt: skip
    # April 1 in Jakarta holds only D10's first contact.
    april = client.get("/api/crm/pipeline/metrics/", {"from": "2026-04-01", "to": "2026-04-30"}).json()
    assert (april["prospects_contacted"], april["won"], april["closing_rate"], april["average_days_to_close"]) == (
        1, 0, "0.0000", None
    )  # fmt: skip
    assert [row["reached"] for row in april["funnel"]] == [0, 0, 0, 0]
    assert april["lost_reasons"] == [] and april["win_rate_by_owner"][0]["owner_id"] == shop_a.agent.pk
    empty = client.get("/api/crm/pipeline/metrics/", {"from": "2025-01-01", "to": "2025-01-31"}).json()
    assert (empty["prospects_contacted"], empty["closing_rate"], empty["win_rate_by_owner"]) == (0, None, [])
    bad = client.get("/api/crm/pipeline/metrics/", {"from": "2026-03-31", "to": "2026-03-01"})
    assert bad.status_code == 400 and list(bad.json()) == ["from"]
