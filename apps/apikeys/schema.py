"""How the OpenAPI schema describes API-key authentication (loaded by the app config)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key kbp_<prefix>_<secret>` — a key from the admin (API 密钥), "
            "with the scope the endpoint names.",
        }
