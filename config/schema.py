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
