"""Hostile servers on loopback, in the style of urllib3's dummyserver (see ``servers.py``)."""
