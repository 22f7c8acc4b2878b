"""Property, through the store and the API: what a partner can reach holds nothing withheld.

Every example seeds a new site from a new flight whose operator, platform, sensor and
method are random words, reviewed by a new analyst with a random name and attributed to
an organization with a random name; a liaison drafts a lead whose text mentions some of
them, for a new partner with a random policy, and a supervisor releases it. Everything
the partner's token can read (its lead routes, exports in every format, its TAXII
collection) is then searched for the words its policy withholds.
"""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumetrace.io.evidence import DetectionRecord
from plumetrace.share.markings import TLP_LEVELS
from plumetrace.share.policy import CATEGORIES, ReleasePolicy
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.organizations import attribute, create_organization
from plumetrace.store.partners import add_partner
from plumetrace.store.taxii import collection_id
from plumetrace.store.users import add_user, find_user, issue_token
from plumetrace.store.workflow import review

from ..share.stix_checks import check_bundle
from .conftest import LAT0, LON0, T0, Api

WORD = st.from_regex(r"[g-z]{3}[0-9]{2}[g-z]{3}", fullmatch=True)
_N = count(1)


def _seed(api: Api, w: dict[str, str], policy: ReleasePolicy) -> tuple[str, str, str]:
    """Create the partner, its user, the evidence and a released lead; return ids."""
    n = next(_N)
    with session_scope(api.engine, write=True) as s:
        partner = add_partner(s, f"Partner {w['partner']}", policy, actor="t")
        puser, _ = add_user(s, w["puser"], "partner", actor="t", partner_id=partner.id)
        puser.must_change_password = False
        token, _ = issue_token(s, puser, timedelta(hours=1))
        analyst, _ = add_user(s, w["analyst"], "analyst", actor="t")
        analyst.must_change_password = False
        props = {"method": w["method"]}
        rec = DetectionRecord(
            "p1", "plume", LAT0 + 0.5 * n, LON0, 15.0, 30.0, 20.0, 40.0, 0.9, properties=props
        )
        r = ingest_detections(
            s,
            FlightSpec(
                w["flight"], operator=w["operator"], platform=w["platform"], sensor=w["sensor"]
            ),
            [rec],
            time=T0,
            actor="t",
            source="t",
        )
        (site_id,) = r.sites_created
        s.flush()
        from plumetrace.store.models import Site

        site = s.get(Site, site_id)
        assert site is not None
        review(s, site_id, "confirm", w["note"], by=analyst, expected_version=site.version)
        org = create_organization(s, w["org"], [w["alias"]], by=analyst)
        attribute(s, site_id, org["id"], confidence=0.6, basis="b", by=analyst)
    mention = " ".join(w[k] for k in ("operator", "sensor", "analyst", "flight", "org"))
    body = {
        "partner": partner.id,
        "sites": [site_id],
        "title": f"Lab {w['platform']}",
        "summary": f"Seen: {mention}.",
        "internal_note": w["internal"],
    }
    r = api.post("/api/leads", "lia", json=body)
    assert r.status_code == 201, r.text
    lead_id = r.json()["id"]
    assert api.post(f"/api/leads/{lead_id}/approve", "sue").status_code == 200
    return lead_id, partner.id, token


def _partner_texts(api: Api, lead_id: str, partner_id: str, token: str) -> list[str]:
    h = {"Authorization": f"Bearer {token}"}
    get = api.client.get
    texts = [
        get("/api/partner/leads", headers=h).text,
        get(f"/api/partner/leads/{lead_id}", headers=h).text,
    ]
    for fmt in ("stix", "geojson", "kml", "cot"):
        r = get(f"/api/partner/leads/{lead_id}/export", headers=h, params={"format": fmt})
        assert r.status_code == 200
        texts.append(r.text)
        if fmt == "stix":
            check_bundle(r.json())
    root = f"/taxii2/leads/collections/{collection_id(partner_id)}/"
    objects, nxt = [], None
    while True:
        params = {"limit": 4, **({"next": nxt} if nxt else {})}
        r = get(root + "objects/", headers=h, params=params)
        assert r.status_code == 200, r.text
        texts.append(r.text)
        objects += r.json()["objects"]
        nxt = r.json().get("next")
        if not r.json()["more"]:
            break
    check_bundle(
        {"type": "bundle", "id": "bundle--7d1e2a9c-54e1-4f1e-9a11-3d6f6a0b2c4d", "objects": objects}
    )
    texts += [
        get(root + "manifest/", headers=h).text,
        get("/taxii2/leads/collections/", headers=h).text,
    ]
    return texts


KEYS = (
    "partner",
    "puser",
    "analyst",
    "method",
    "flight",
    "operator",
    "platform",
    "sensor",
    "note",
    "org",
    "alias",
    "internal",
)
CATEGORY_OF = {
    "analyst": "analyst",
    "note": "internal",
    "method": "method",
    "flight": "flight_track",
    "operator": "platform",
    "platform": "platform",
    "sensor": "sensor",
    "org": "attribution",
    "alias": "attribution",
    "internal": "internal",
}


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    words=st.lists(WORD, min_size=len(KEYS), max_size=len(KEYS), unique=True),
    release=st.frozensets(st.sampled_from(sorted(CATEGORIES))),
    tlp=st.sampled_from(TLP_LEVELS),
)
def test_partner_reaches_nothing_withheld(
    api: Api, words: list[str], release: frozenset[str], tlp: str
) -> None:
    w = dict(zip(KEYS, words, strict=True))
    policy = ReleasePolicy(tlp=tlp, release=release)
    lead_id, partner_id, token = _seed(api, w, policy)
    texts = [t.lower() for t in _partner_texts(api, lead_id, partner_id, token)]
    for key, category in CATEGORY_OF.items():
        if category not in release:
            assert all(w[key] not in t for t in texts), (key, category)
        else:  # released: it does reach the partner (the test sees real provenance)
            assert any(w[key] in t for t in texts), (key, category)
    # the partner user's own name and partner are its own business
    with session_scope(api.engine) as s:
        assert find_user(s, w["puser"]).partner_id == partner_id
    assert (
        json.loads(
            api.client.get(
                f"/api/partner/leads/{lead_id}", headers={"Authorization": f"Bearer {token}"}
            ).text
        )["lead"]["tlp"]
        == tlp
    )
