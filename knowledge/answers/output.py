"""What an answer hands on to the dialogue and the channels: the posts it cites, the pieces of its
text as they stream, and a post's date as people say it. Kept light: the channels import it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class Citation:
    """A post an answer or a message cites: its title and address, its number in the text ([1]) when
    the text marks it, and the passage the answer drew on."""
    title: str
    url: str
    permalink: str
    number: int | None = None
    passage: str = ""     # one sentence a line; kept by the composer, not sent to channels

    def as_json(self) -> dict:
        """What channels and the HTTP API get: title, url, permalink and the number if there is one."""
        data = {"title": self.title, "url": self.url, "permalink": self.permalink}
        if self.number is not None:
            data["number"] = self.number
        return data


@dataclass
class Token:
    """A piece of an answer's text as it is written."""
    text: str


def month_year(date: str) -> str:
    """A post's month as people say it: "2023-08-25" -> "August 2023"; a date that is not ISO stays as it is."""
    try:
        return dt.date.fromisoformat(date).strftime("%B %Y")
    except ValueError:
        return date
