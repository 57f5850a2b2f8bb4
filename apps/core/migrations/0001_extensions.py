from django.contrib.postgres.operations import CreateExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pgvector (semantic search) and pg_trgm (fuzzy matching) must exist before any app uses them."""

    initial = True
    dependencies = []
    operations = [CreateExtension("vector"), TrigramExtension()]
