"""The DuckDB peer of the macro benchmark: the same selection and group-by as
`ctscan report`'s by_principal, over the files listed (NUL-separated) in argv[1]."""
import sys

import duckdb

files = [f for f in open(sys.argv[1]).read().split("\0") if f]
con = duckdb.connect()
con.execute("SET threads=2")
con.execute("SET preserve_insertion_order=false")
rows = con.execute(
    """
    SELECT r.userIdentity.arn AS principal, count(*) AS events FROM (
      SELECT unnest(Records) AS r FROM read_json(?,
        columns={'Records': 'STRUCT(eventSource VARCHAR, eventName VARCHAR,
                 userIdentity STRUCT(arn VARCHAR), sourceIPAddress VARCHAR, eventTime VARCHAR)[]'},
        format='auto', maximum_object_size=67108864))
    WHERE r.eventSource = 'secretsmanager.amazonaws.com'
      AND r.eventName IN ('GetSecretValue', 'BatchGetSecretValue')
    GROUP BY 1
    """,
    [files],
).fetchall()
print(sum(n for _, n in rows))
