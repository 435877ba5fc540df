"""Payment pages (checkout, receipts, payouts) arrive with the rest of the payments issue."""
