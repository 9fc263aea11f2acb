"""Tickets: ticket types, issuing (one, in bulk, by CSV, automatically), revoking, reissuing,
transferring, mailing, the events' signing keys, the holders' pages and the ticketing hub."""
