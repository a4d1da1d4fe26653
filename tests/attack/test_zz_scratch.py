import logging, json
from tests.attack.test_logs import *  # noqa


async def test_dbg(open_site, caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    site = await open_site(SAFESESSION_ALLOWED_TENANTS=TENANT)
    await everything_happens(site)
    print("records", len(caplog.records))
    from collections import Counter

    print(Counter(r.name for r in caplog.records))
    for c in ("sessions", "escalations", "tasks", "discussion_items", "service_users"):
        docs = await site.documents(c)
        print(c, [(d["key"], d.get("status"), d.get("ending")) for d in docs])
    for r in caplog.records:
        if r.name.startswith("safesession") or r.levelno >= logging.WARNING:
            print(r.levelname, r.name, r.getMessage()[:200])
