"""OpenAPI schema generation (kept apart from config.api, which DRF imports while it starts)."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names serializers nested in a view after the view (ContactCheckApi.InputSerializer becomes
    ContactCheckInput), so that every view may call its own `InputSerializer`."""

    def get_serializer_name(self, serializer, direction):
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if outer:
            return outer.removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


# What a 400 carries: a refused action ({code, detail}, from config.errors.DomainError) or, when the input did
# not validate, DRF's map of field name to messages.
BAD_REQUEST = {
    "anyOf": [
        {
            "type": "object",
            "required": ["code", "detail"],
            "properties": {"code": {"type": "string"}, "detail": {"type": "string"}, "details": {}},
        },
        {
            "type": "object",
            "description": "field name (or non_field_errors) to its messages",
            "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}]},
        },
    ]
}
