from django.db import migrations

# Seconds of business time between two moments, for a team's business hours (NULL: around the clock).
# hours: {"timezone": "Asia/Shanghai", "weekdays": [1..7, ISO: 1 = Monday], "start": "09:00", "end": "21:00"}
FUNCTION = """
CREATE OR REPLACE FUNCTION kb_business_seconds(start_at timestamptz, end_at timestamptz, hours jsonb)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN start_at IS NULL OR end_at IS NULL THEN NULL
    WHEN end_at <= start_at THEN 0::double precision
    WHEN hours IS NULL OR jsonb_typeof(hours) <> 'object' THEN extract(epoch FROM end_at - start_at)::double precision
    ELSE (
      SELECT COALESCE(sum(GREATEST(0, extract(epoch FROM LEAST(end_at, w.closes) - GREATEST(start_at, w.opens)))), 0)
      FROM (
        SELECT (d.day + (hours->>'start')::time) AT TIME ZONE z.tz AS opens,
               (d.day + (hours->>'end')::time) AT TIME ZONE z.tz AS closes
        FROM (SELECT COALESCE(hours->>'timezone', 'Asia/Shanghai') AS tz) z,
             generate_series((start_at AT TIME ZONE z.tz)::date::timestamp,
                             (end_at AT TIME ZONE z.tz)::date::timestamp, interval '1 day') AS d(day)
        WHERE extract(isodow FROM d.day)::int IN (
          SELECT jsonb_array_elements_text(COALESCE(hours->'weekdays', '[1,2,3,4,5,6,7]'::jsonb))::int)
      ) w
    )::double precision
  END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("conversations", "0002_channels_and_tiers")]
    operations = [migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS kb_business_seconds(timestamptz, timestamptz, jsonb)")]
