"""Referential integrity now lives in `community_policing.batch`; this module only re-exports it."""

from community_policing.batch import Reference, missing_references, references

__all__ = ["Reference", "missing_references", "references"]
