"""The shelf: many briefs published as one static site, with Atom and OPDS feeds (``briefpress shelf``)."""
