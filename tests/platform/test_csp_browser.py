"""The main pages under the Content-Security-Policy in Chromium: no violation reported (an inline script, style
attribute or outside origin would be refused and reported), for visitors, guests, hosts and admins."""

from __future__ import annotations

from datetime import date, timedelta

from app.blueprints.bookings import services as bookings
from app.extensions import db

from ..support.browser import chromium, live_server, require_chromium, sign_in
from ..support.factories import make_listing, make_user

# Every securitypolicyviolation event of a page, kept where the test can read it (an init script runs before the
# page's own and is not subject to its policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const element = e.target && e.target.outerHTML ? ' ' + e.target.outerHTML.slice(0, 160) : '';
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + element);
});
"""


def visit(context, base: str, paths: list[str]) -> dict[str, list[str]]:
    """{path: violations} over `paths`, from the events and from Chromium's console ("Refused to ...")."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    found = {}
    for path in paths:
        console.clear()
        response = page.goto(base + path, wait_until="load")
        assert response.status < 400, (path, response.status)
        page.wait_for_timeout(300)  # late scripts (the calendar, the charts) run and would report
        violations = page.evaluate("window.__cspViolations") + console
        if violations:
            found[path] = violations
    page.close()
    return found


def test_main_pages_report_no_csp_violation(app):
    require_chromium()
    host = make_user(role="host", email="hana@example.com")
    guest = make_user(email="gus@example.com")
    make_user(role="admin", email="ada@example.com")
    listing = make_listing(host=host, title="Harbour loft", instant_book=True)
    check_in = date.today() + timedelta(days=30)
    booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                         check_out=check_in + timedelta(days=2), guests=1)
    listing_id, booking_id = listing.id, booking.id
    db.session.commit()
    pages = {
        None: ["/", "/search", "/search?location=a", f"/listings/{listing_id}", "/login", "/register"],
        "gus@example.com": ["/", "/profile", "/trips", f"/bookings/{booking_id}", f"/bookings/{booking_id}/checkout",
                            "/notifications", f"/listings/{listing_id}"],
        "hana@example.com": ["/host/listings", f"/host/listings/{listing_id}/calendar",
                             f"/host/listings/{listing_id}/photos", f"/host/listings/{listing_id}/edit",
                             "/host/reservations", "/host/payouts", "/host/reviews"],
        "ada@example.com": ["/admin/", "/admin/users/", "/admin/listings/", "/admin/analytics/", "/admin/bookings/",
                            f"/admin/bookings/details/?id={booking_id}", "/admin/rates/"],
    }
    violations = {}
    with live_server(app) as base, chromium() as browser:
        for email, paths in pages.items():
            context = browser.new_context()
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            if email:
                sign_in(page, base, email)
            page.close()
            violations.update({f"{email}: {path}": found for path, found in visit(context, base, paths).items()})
            context.close()
    assert not violations, "\n".join(f"{page}: {found[:4]}" for page, found in violations.items())
