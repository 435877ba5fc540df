"""Demo data for `flask seed`: accounts, listings in several countries with photos drawn by Pillow, bookings, and
past stays with reviews (some with sub-ratings, some with the host's reply)."""

from __future__ import annotations

import io
import logging
import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from .blueprints.auth import services as accounts
from .blueprints.listings import services as listings
from .errors import DomainError
from .extensions import db
from .models import Booking, Listing, User

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "abode-demo-2026"
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("host@example.com", "Hana Host", "host"),
    ("host2@example.com", "Hugo Host", "host"),
    ("guest@example.com", "Gil Guest", "guest"),
    ("guest2@example.com", "Greta Guest", "guest"),
]


@dataclass(frozen=True)
class City:
    name: str
    state: str
    country: str
    currency: str
    timezone: str
    lat: float
    lng: float
    nightly: int  # typical nightly price in minor units of `currency`


CITIES = [
    City("Lisbon", "Lisboa", "PT", "EUR", "Europe/Lisbon", 38.7223, -9.1393, 9500),
    City("Paris", "Île-de-France", "FR", "EUR", "Europe/Paris", 48.8566, 2.3522, 16000),
    City("London", "England", "GB", "GBP", "Europe/London", 51.5074, -0.1278, 14000),
    City("New York", "NY", "US", "USD", "America/New_York", 40.7128, -74.0060, 21000),
    City("San Francisco", "CA", "US", "USD", "America/Los_Angeles", 37.7749, -122.4194, 19000),
    City("Tokyo", "Tokyo", "JP", "JPY", "Asia/Tokyo", 35.6762, 139.6503, 18000),
    City("Kyoto", "Kyoto", "JP", "JPY", "Asia/Tokyo", 35.0116, 135.7681, 15000),
    City("Barcelona", "Catalonia", "ES", "EUR", "Europe/Madrid", 41.3874, 2.1686, 11000),
    City("Berlin", "Berlin", "DE", "EUR", "Europe/Berlin", 52.5200, 13.4050, 8500),
    City("Sydney", "NSW", "AU", "AUD", "Australia/Sydney", -33.8688, 151.2093, 22000),
    City("Mexico City", "CDMX", "MX", "MXN", "America/Mexico_City", 19.4326, -99.1332, 150000),
    City("Banff", "Alberta", "CA", "CAD", "America/Edmonton", 51.1784, -115.5708, 26000),
]
KINDS = [("apartment", "Bright apartment"), ("house", "Family house"), ("room", "Cosy room"),
         ("cabin", "Quiet cabin"), ("villa", "Villa with a view"), ("other", "Converted loft")]
AMENITY_CODES = ["wifi", "kitchen", "parking", "pool", "air_conditioning", "heating", "washer", "tv", "workspace",
                 "pets_allowed", "hot_tub", "breakfast"]
PALETTES = [((255, 183, 150), (226, 86, 91)), ((160, 210, 235), (40, 90, 160)), ((190, 230, 190), (50, 120, 80)),
            ((250, 225, 160), (200, 120, 40)), ((220, 200, 240), (110, 70, 150))]


def draw_photo(rng: random.Random, width: int = 1200, height: int = 800) -> bytes:
    """A JPEG of a little house under a sky, different each call."""
    sky, wall = rng.choice(PALETTES)
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)
    for y in range(height // 2):  # a soft gradient towards the horizon
        shade = tuple(min(255, c + y // 6) for c in sky)
        draw.line([(0, y), (width, y)], fill=shade)
    draw.rectangle([0, int(height * 0.7), width, height], fill=(90, 150, 90))
    x0 = rng.randint(width // 8, width // 2)
    w, h = rng.randint(width // 4, width // 3), rng.randint(height // 4, height // 3)
    base = int(height * 0.72)
    draw.rectangle([x0, base - h, x0 + w, base], fill=wall)
    draw.polygon([(x0 - 30, base - h), (x0 + w // 2, base - h - h // 2), (x0 + w + 30, base - h)], fill=(90, 50, 40))
    draw.rectangle([x0 + w // 2 - 30, base - 110, x0 + w // 2 + 30, base], fill=(60, 40, 30))
    for wx in (x0 + w // 6, x0 + 4 * w // 6):
        draw.rectangle([wx, base - h + 40, wx + w // 6, base - h + 40 + w // 6], fill=(255, 240, 190))
    sun = rng.randint(width // 2, width - 120)
    draw.ellipse([sun, 60, sun + 110, 170], fill=(255, 230, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


def seed_users(extra_guests: int) -> tuple[list[User], int]:
    """The demo accounts (created once) plus `extra_guests` random guests; returns (hosts, how many were new)."""
    created = 0
    for email, name, role in DEMO_USERS:
        if accounts.find_user_by_email(email) is None:
            if role == "admin":
                accounts.create_admin(email=email, password=DEMO_PASSWORD, name=name)
            else:
                accounts.register_user(email=email, password=DEMO_PASSWORD, name=name, role=role)
            created += 1
    fake = Faker()
    Faker.seed(2026)
    for n in range(extra_guests):
        email = f"guest{n + 3}@example.com"
        if accounts.find_user_by_email(email) is None:
            accounts.register_user(email=email, password=DEMO_PASSWORD, name=fake.name(), role="guest")
            created += 1
    hosts = [accounts.find_user_by_email(email) for email, _n, role in DEMO_USERS if role == "host"]
    return hosts, created


def seed_listings(hosts: list[User], count: int, photos_per_listing: int = 3) -> int:
    """Give the demo hosts `count` listings in total (only the missing ones); returns how many were made."""
    have = db.session.scalar(select(func.count()).select_from(Listing).where(
        Listing.host_id.in_([h.id for h in hosts]), Listing.status == "active")) or 0
    rng = random.Random(2026 + have)
    made = 0
    for n in range(have, count):
        city = CITIES[n % len(CITIES)]
        kind, label = KINDS[n % len(KINDS)]
        price = round(int(city.nightly * rng.uniform(0.6, 1.8)), -2)  # whole units: 125.00, not 124.37
        data = {
            "title": f"{label} in {city.name}", "property_type": kind,
            "description": f"A {label.lower()} in {city.name}, close to cafés, parks and transport. "
                           "Fresh linen and towels, fast Wi-Fi and a self check-in.",
            "address": {"line1": f"{rng.randint(1, 200)} {Faker().street_name()}", "city": city.name,
                        "state": city.state, "country": city.country, "postal_code": str(rng.randint(10000, 99999))},
            "latitude": round(city.lat + rng.uniform(-0.05, 0.05), 6),
            "longitude": round(city.lng + rng.uniform(-0.05, 0.05), 6),
            "price_per_night": {"amount": price, "currency": city.currency},
            "cleaning_fee": {"amount": price // 4, "currency": city.currency},
            "max_guests": rng.randint(1, 8), "bedrooms": rng.randint(1, 4), "beds": rng.randint(1, 5),
            "bathrooms": rng.randint(1, 3), "amenities": rng.sample(AMENITY_CODES, rng.randint(3, 8)),
            "min_nights": rng.choice([1, 1, 2, 3]), "max_nights": rng.choice([14, 30, 90, 365]),
            "cancellation_policy": rng.choice(["flexible", "moderate", "strict"]),
            "instant_book": rng.random() < 0.6, "timezone": city.timezone,
        }
        host = hosts[n % len(hosts)]
        listing = listings.create_listing(host=host, **data)
        for _ in range(photos_per_listing):
            listings.add_image(listing, actor=host, file=io.BytesIO(draw_photo(rng)))
        made += 1
    logger.info("seeded %s listings", made)
    return made


def seed_bookings(today: date | None = None) -> int:
    """Give each demo guest without bookings a confirmed trip and a paid request awaiting its host (the
    payment recorded as the payments service will); returns how many bookings were made."""
    from .blueprints.bookings import services as bookings

    today = today or date.today()
    made = 0
    guests = [accounts.find_user_by_email(email) for email, _name, role in DEMO_USERS if role == "guest"]
    for offset, guest in enumerate(guests):
        if guest is None or db.session.scalar(
                select(func.count()).select_from(Booking).where(Booking.guest_id == guest.id)):
            continue
        for instant, weeks in ((True, 2), (False, 5)):
            choices = db.session.scalars(select(Listing).where(
                Listing.status == "active", Listing.instant_book.is_(instant)).order_by(Listing.id)).all()
            if not choices:
                continue
            listing = choices[offset % len(choices)]
            check_in = today + timedelta(weeks=weeks + 3 * offset)  # two guests of one listing never clash
            nights = min(max(listing.min_nights, 3), listing.max_nights)
            try:
                booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                                     check_out=check_in + timedelta(days=nights), guests=1)
                bookings.record_payment(booking.id, booking.total_amount)
            except DomainError as error:  # e.g. dates taken by an earlier run's guest: skip it
                logger.info("demo booking skipped: %s", error)
                continue
            made += 1
    return made


# (days since check-out, rating, sub-ratings, comment, the host's reply or None) of each demo guest's past stays.
PAST_STAYS = [
    (3, 5, {"cleanliness": 5, "accuracy": 5, "communication": 5, "location": 4, "check_in": 5, "value": 5},
     "Spotless, quiet and exactly as pictured. We would stay again.", "Thank you, come back any time!"),
    (9, 4, {}, "Great location; the street can be a little noisy at night.", None),
]


def _past_stay(guest: User, listing: Listing, ended_days_ago: int, today: date) -> Booking | None:
    """A stay of `listing` by `guest` that ended `ended_days_ago` days ago, booked and paid a month before it
    began and completed as `jobs run-due` does; None when its nights are taken."""
    from datetime import datetime

    from .blueprints.bookings import services as bookings
    from .blueprints.bookings.state import check_out_at

    check_out = today - timedelta(days=ended_days_ago)
    nights = min(max(listing.min_nights, 2), listing.max_nights)
    check_in = check_out - timedelta(days=nights)
    booked_at = datetime.combine(check_in, datetime.min.time()) - timedelta(days=30)
    try:
        booking, _ = bookings.create_booking(guest=guest, listing_id=listing.id, check_in=check_in,
                                             check_out=check_out, guests=1, now=booked_at)
        bookings.record_payment(booking.id, booking.total_amount, now=booked_at + timedelta(minutes=5))
        if not listing.instant_book:
            bookings.approve_booking(booking.id, listing.host, now=booked_at + timedelta(minutes=10))
        bookings.complete_due(check_out_at(booking) + timedelta(minutes=1))
    except DomainError as error:
        logger.info("demo past stay skipped: %s", error)
        return None
    return db.session.get(Booking, booking.id)


def seed_reviews(today: date | None = None) -> int:
    """Give each demo guest without a completed stay two past stays (PAST_STAYS) and review them through the
    reviews service, so the listings' ratings add up; the host replies to some. Returns how many reviews were
    made (none on a second run)."""
    from .blueprints.reviews import services as reviews

    today = today or date.today()
    made = 0
    guests = [accounts.find_user_by_email(email) for email, _name, role in DEMO_USERS if role == "guest"]
    choices = db.session.scalars(select(Listing).where(Listing.status == "active").order_by(Listing.id)).all()
    for offset, guest in enumerate(guests):
        if guest is None or not choices or db.session.scalar(select(func.count()).select_from(Booking).where(
                Booking.guest_id == guest.id, Booking.status == "completed")):
            continue
        for n, (days_ago, rating, subs, comment, reply) in enumerate(PAST_STAYS):
            listing = choices[(2 * offset + n) % len(choices)]
            booking = _past_stay(guest, listing, days_ago + 20 * offset, today)
            if booking is None:
                continue
            review = reviews.create_review(author=guest, booking_id=booking.id, rating=rating, comment=comment,
                                           sub_ratings=subs, now=booking.completed_at)
            if reply:
                reviews.respond_to_review(review.id, listing.host, reply)
            made += 1
    logger.info("seeded %s reviews", made)
    return made

