"""The till's records: tills, tickets, chains, signatures, closings and archives."""
