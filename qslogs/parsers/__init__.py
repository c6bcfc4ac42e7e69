"""Parsers: bytes of one file → typed polars frames plus the lines that did not fit."""
