"""The ``id`` path convertor: a path segment that is an id is an integer, sign and all.

``/zones/{zone_id:id}`` never takes ``/zones/preview`` for zone "preview", so a method the
preview does not take is a 405 naming the ones it does, not a 422 about a zone id. A
negative or oversized id still reaches the route and is refused by validation (422), as
every impossible id is.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    # At most 20 digits: an id is a bigint at most, and a longer number is no id (a 404)
    # rather than a number Python refuses to convert.
    regex = "-?[0-9]{1,20}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
