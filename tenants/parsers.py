"""Request bodies of the API: JSON must be an object (every endpoint takes named fields)."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONObjectParser(JSONParser):
    """A JSON list, string or number where fields are expected is refused with a 400 here, once, instead of
    reaching views, throttles and serializers that read it as a mapping."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise ParseError(_("The request body must be a JSON object with named fields."))
        return data
