from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error response: a message, a machine code, and field errors for invalid input."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
