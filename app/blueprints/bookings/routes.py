"""Booking pages: the booking panel's quote, the guest's trips and the host's reservations."""
