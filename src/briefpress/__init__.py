"""briefpress: publish structured briefs as PDF, EPUB and HTML from plain files."""

__version__ = "0.1.0"
