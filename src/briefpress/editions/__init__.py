"""Editions: the PDF (``pdf``, laid out by ``typeset``), the EPUB (``epub``) and the HTML page (``html``),
each a module with ``write(EditionInput) -> EditionResult`` (``base``)."""
