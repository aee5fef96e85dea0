"""Fakes and fixtures shipped with the code (in-process test server). Never imported by production code."""
